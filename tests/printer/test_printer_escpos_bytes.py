"""The fast encoder equals python-escpos byte for byte; the decoder inverts it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from printer._escpos import escpos_printer
from printer.errors import ImageTooWide
from printer.escpos_raster import (
    JobOptions,
    cut_bytes,
    encode_label_job,
    encode_raster,
    feed_dots_bytes,
)
from printer.label import LabelContent, LabelLayout, render_label
from printer.raster_decode import StreamParser, decode_images, parse_commands, split_jobs


def escpos_image_bytes(img: Image.Image, profile: str | None = None) -> bytes:
    d = escpos_printer.Dummy(profile=profile) if profile else escpos_printer.Dummy()
    d.image(img)
    return bytes(d.output)


def random_1bit(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.random((height, width)) < 0.5)


@pytest.mark.parametrize("width,profile", [(384, "POS-5890"), (576, "TM-T20II")])
def test_label_bytes_equal_python_escpos(width, profile):
    content = LabelContent(
        qr_text="HTTPS://X.VN/S/1", title="Mộc Châu", serial_text="Số 1", stars=3
    )
    img = render_label(content, LabelLayout(width_dots=width))
    assert encode_raster(img) == escpos_image_bytes(img, profile)


@settings(max_examples=40, deadline=None)
@given(width=st.integers(1, 200), height=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_random_images_equal_python_escpos_any_width(width, height, seed):
    img = random_1bit(width, height, seed)
    assert encode_raster(img) == escpos_image_bytes(img)


def test_tall_image_is_split_in_960_row_blocks_like_python_escpos():
    img = random_1bit(384, 2100, 7)
    ours = encode_raster(img)
    assert ours == escpos_image_bytes(img, "POS-5890")
    assert [c.raster_size for c in parse_commands(ours)] == [(384, 960), (384, 960), (384, 180)]


def test_non_1bit_images_use_python_escpos_conversion():
    img = Image.new("L", (64, 8), 255)
    img.paste(0, (0, 0, 10, 8))
    assert encode_raster(img) == escpos_image_bytes(img)


@pytest.mark.parametrize("width", [8, 13, 384, 576])
def test_round_trip_encode_decode(width):
    img = random_1bit(width, 50, width)
    [back] = decode_images(encode_raster(img))
    assert back.size[1] == img.size[1]
    assert back.crop((0, 0, width, 50)).tobytes() == img.tobytes()
    assert not (~np.array(back))[:, width:].any()  # padding decodes as white


def test_job_bytes_init_raster_feed_cut():
    img = random_1bit(384, 20, 1)
    job = encode_label_job(
        img, width_dots=384, profile_name="TM-T20II", options=JobOptions(feed_dots=300, cut=True)
    )
    names = [c.name for c in parse_commands(job)]
    assert names == ["init", "raster", "feed_dots", "feed_dots", "feed_lines", "cut"]
    assert cut_bytes("POS-5890") == b"\x1bd\x06"  # POS-5890 has no cutter: python-escpos feeds
    assert feed_dots_bytes(300) == b"\x1bJ\xff\x1bJ\x2d"
    with pytest.raises(ImageTooWide):
        encode_label_job(random_1bit(576, 4, 1), width_dots=384, profile_name="POS-5890")


def test_decoder_handles_python_escpos_text_and_qr_output():
    d = escpos_printer.Dummy(profile="TM-T20II")
    d.text("OCOP Son La\n")
    d.qr("HTTPS://X.VN/S/1", size=4)
    d.qr("HTTPS://X.VN/S/1", native=True)
    d.cut()
    cmds = parse_commands(bytes(d.output))
    names = [c.name for c in cmds]
    assert "text" in names and "raster" in names and "symbol" in names and names[-1] == "cut"
    assert "truncated" not in names


def test_stream_parser_incremental_equals_whole_and_skips_dle_eot_inside_raster():
    # Raster data that contains the bytes of a DLE EOT query must not be taken as one.
    row = bytes([0x10, 0x04, 0x01] * 16)  # 48 bytes = 384 dots
    img = Image.frombytes("1", (384, 4), (row * 4).translate(bytes(255 - i for i in range(256))))
    stream = b"\x10\x04\x01" + encode_raster(img) + b"\x10\x04\x04" + b"tail"
    whole = parse_commands(stream)
    assert [c.name for c in whole] == ["status_query", "raster", "status_query", "text"]
    parser = StreamParser()
    pieces = []
    for i in range(0, len(stream), 7):
        pieces += parser.feed(stream[i : i + 7])
    pieces += parser.flush()
    assert [(c.name, c.offset, c.params, c.data) for c in pieces] == [
        (c.name, c.offset, c.params, c.data) for c in whole
    ]


def test_split_jobs_and_truncated_tail():
    img = random_1bit(384, 10, 3)
    job = encode_label_job(img, width_dots=384, profile_name="POS-5890")
    jobs = split_jobs(job * 3)
    assert len(jobs) == 3
    cut_short = parse_commands(job[:-5])
    assert cut_short[-1].name == "truncated"
