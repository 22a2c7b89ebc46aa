"""`ocop-kiosk scan` on real label images printed by the virtual printer."""

import json

from PIL import Image

from tests.conftest import copy_data_dir, run_cli


def test_scan_cli_verdicts_and_exit_codes(tmp_path, demo_init_template):
    data = copy_data_dir(demo_init_template, tmp_path / "d")  # after `init --demo`
    printed = run_cli("--data-dir", str(data), "print", "--product", "106", "--count", "1")
    assert printed.returncode == 0, printed.stderr
    label = next((data / "virtual-printer").glob("job-*.png"))
    blank = tmp_path / "blank.png"
    Image.new("L", (640, 480), 200).save(blank)
    result = run_cli(
        "--data-dir",
        str(data),
        "scan",
        "--json",
        str(label),
        str(blank),
        str(tmp_path / "missing.png"),
    )
    assert result.returncode == 2  # one input unreadable ...
    assert "missing.png" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2  # ... the others still processed
    genuine, nothing = lines
    assert genuine["verdict"] == "genuine" and genuine["product_id"] == 106
    assert genuine["serial"] >= 1 and genuine["decode_ms"] >= 0
    assert genuine["codes"][0].startswith("https://OCOP.SONLA.GOV.VN/S/")  # issue 15 spelling
    assert nothing["verdict"] == "no_code" and nothing["codes"] == []
    ok = run_cli("--data-dir", str(data), "scan", "--json", str(blank))
    assert ok.returncode == 0
