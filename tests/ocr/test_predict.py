
from recognize.core.decode import Hypothesis, Token
from recognize.core.lines import token_spans as glyph_spans
from recognize.ocr.predict import prepare_array, to_result


def test_glyph_spans_tile_the_blanks_between_tokens():
    hyp = Hypothesis("ab", [Token(1, "a", 2, 3, 0.9), Token(2, "b", 7, 8, 0.8)], frames=12)
    assert glyph_spans(hyp) == [(1.5, 5.0), (5.0, 8.5)]


def test_result_maps_frames_to_original_pixels():
    import numpy as np
    gray = np.full((64, 400), 255, np.uint8)
    gray[20:40, 10:390] = 0
    p = prepare_array(gray, 32, "x.png")
    assert p.pixels.shape == (1, 32, 200)
    hyp = Hypothesis("ab", [Token(1, "a", 0, 1, 0.9), Token(2, "b", 49, 50, 0.8)], frames=50)
    r = to_result(p, hyp, stride=4, model={}, decoder={"name": "greedy"})
    assert (r.glyphs[0].x0, r.glyphs[-1].x1) == (0, 400)  # frame 50 * 4 columns * 2 = 400 px
    assert r.glyphs[0].x1 == r.glyphs[1].x0 == 200
    assert p.pixels.dtype == np.float32 and r.width == 400 and r.height == 64
