"""'The guideline gives no dose' is never said when the quoted statements give it (issue 12, library cases).

Each case is a small generated guideline and a question through the real chain.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.schema import FlagCode

CASES = [
    (
        "lipids.md",
        "# Lipid modification\n\n## Statins\n\nStart statin treatment in people with CVD with atorvastatin 80 mg.\n",
        "What statin dose should be started in people with cardiovascular disease?",
        "80 mg",
    ),
    (
        "rsv.md",
        "# RSV prevention\n\n## Palivizumab\n\n"
        "Clinicians should administer a maximum 5 monthly doses (15 mg/kg/dose) of palivizumab during RSV season.\n",
        "pavilizumab dose for RSV prevention in babies",
        "15 mg/kg",
    ),
    (
        "ovarian.md",
        "# Epithelial ovarian cancer\n\n## Chemotherapy\n\n"
        "The standard regimen is carboplatin AUC 6 plus paclitaxel 175 mg/m2 every 3 weeks for 6 cycles.\n",
        "In the carboplatin-paclitaxel regimen, what paclitaxel dose is given?",
        "175 mg/m2",
    ),
    (
        "fertility.md",
        "# Fertility\n\n## Folic acid supplementation\n\n"
        "Women trying to conceive should take folic acid before conception.\n\nThe recommended dose is 0.4 mg per day.\n",
        "What folic acid dose is recommended for women trying to conceive?",
        "0.4 mg",
    ),
]


@pytest.mark.parametrize(("name", "text", "question", "dose"), CASES, ids=[case[0] for case in CASES])
def test_a_quoted_dose_is_never_denied(make_corpus, embedder, name: str, text: str, question: str, dose: str) -> None:
    assistant = Assistant.load(settings=make_corpus({name: text}))
    answer = assistant.ask(question)
    assert any(dose in quote.text for quote in answer.quotes), [quote.text for quote in answer.quotes]
    denied = [flag.message for flag in answer.guardrail.flags if flag.code is FlagCode.DOSE_NOT_SPECIFIED]
    assert not denied, denied
