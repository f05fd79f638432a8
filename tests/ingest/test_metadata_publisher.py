"""The publisher of a guideline: only an organisation that names itself in the title or front matter."""

from __future__ import annotations

import pytest

from assistant.ingest.metadata import publisher


@pytest.mark.parametrize(
    ("title", "front_matter", "expected"),
    [
        # The bundled guideline: "AHA" is acquired haemophilia A, not the American Heart Association.
        ("IVIG in Autoimmune Hemolytic Anemia", "We do not recommend IVIG in patients with AHA. AHA guidelines", None),
        ("Sepsis", "NICE guideline NG51. Published: 13 July 2016", "National Institute for Health and Care Excellence"),
        ("Anaemia", "Published by the British Society for Haematology, 2020", "British Society for Haematology"),
        ("CPR", "2020 American Heart Association Guidelines for CPR", "American Heart Association"),
        ("Green-top 63", "Royal College of Obstetricians and Gynaecologists Green-top Guideline",
         "Royal College of Obstetricians and Gynaecologists"),
        ("Asthma", "SIGN 158 British guideline on the management of asthma", "Scottish Intercollegiate Guidelines Network"),
        ("Tuberculosis", "WHO guidelines on tuberculosis", "World Health Organization"),
        ("Pneumonia", "ESC, IDSA and ACR statements are compared", None),  # acronyms alone
        ("Pneumonia", "Who should be offered antibiotics?", None),  # a question word, not WHO
        ("World Health Organization guideline", "", "World Health Organization"),
    ],
)  # fmt: skip
def test_publisher_only_from_a_recognised_organisation_name(
    title: str, front_matter: str, expected: str | None
) -> None:
    assert publisher(title, front_matter) == expected


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        # an organisation introducing itself with its acronym outweighs one named in passing
        ("developed by the centre based at the Royal College of Obstetricians and Gynaecologists for the "
         "National Institute for Health and Care Excellence (NICE).", "National Institute for Health and Care Excellence"),
        ("© NICE 2015. All rights reserved.", "National Institute for Health and Care Excellence"),
        ("British Association for Sexual Health and HIV national guideline", "British Association for Sexual Health and HIV"),
        ("the British Society and others", None),  # too vague to name anyone
        ("Mitotane for adrenocortical carcinoma (ACC)", None),  # ACC here is a tumour, not a college
    ],
)  # fmt: skip
def test_publisher_weighs_an_organisation_that_introduces_itself(front_matter: str, expected: str | None) -> None:
    assert publisher("A guideline", front_matter) == expected
