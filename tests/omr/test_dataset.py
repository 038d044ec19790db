"""PrIMuS / Camera-PrIMuS folder reading (a tiny layout written by the test)."""
import pytest
from PIL import Image

from recognize.omr.dataset import find_samples, primus_items

SEM = "clef-G2\tkeySignature-DM\ttimeSignature-2/4\tnote-F#4_quarter\tbarline\t"
AGN = "clef.G-L2\taccidental.sharp-L5\taccidental.sharp-S3\tdigit.2-L4\tdigit.4-L2\tnote.quarter-S1\tbarline-L1\t"


def write_incipit(root, sid, distorted=True, agnostic=True, size=(300, 150)):
    d = root / sid
    d.mkdir(parents=True)
    Image.new("L", size, 255).save(d / f"{sid}.png")
    if distorted:
        Image.new("L", (size[0] + 10, size[1] + 6), 200).save(d / f"{sid}_distorted.jpg")
    (d / f"{sid}.semantic").write_text(SEM)
    if agnostic:
        (d / f"{sid}.agnostic").write_text(AGN)


def test_both_encodings_and_image_kinds(tmp_path):
    write_incipit(tmp_path, "000000001-1_1_1")
    write_incipit(tmp_path / "package_ab", "000000002-1_1_1", distorted=False, agnostic=False)
    sem = find_samples(tmp_path, "semantic")
    assert [s.id for s in sem] == ["000000001-1_1_1", "000000002-1_1_1"]
    assert sem[0].tokens == SEM.split("\t")[:-1]
    agn = find_samples(tmp_path, "agnostic")
    assert len(agn) == 1 and agn[0].tokens[0] == "clef.G-L2"
    both = find_samples(tmp_path, "semantic", image="both")
    assert [p.image.name for p in both] == ["000000001-1_1_1.png", "000000001-1_1_1_distorted.jpg",
                                            "000000002-1_1_1.png"]
    dist = find_samples(tmp_path, "semantic", image="distorted")
    assert [s.image.name for s in dist] == ["000000001-1_1_1_distorted.jpg"]


def test_items_scale_width_to_model_height(tmp_path):
    write_incipit(tmp_path, "a", size=(640, 160))
    (item,) = primus_items(tmp_path, 64)
    assert item.length == 256 and item.text.split()[0] == "clef-G2" and "\t" not in item.text


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such dataset directory"):
        find_samples(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no incipit"):
        find_samples(tmp_path)
    with pytest.raises(ValueError, match="unknown encoding"):
        find_samples(tmp_path, "kern")
