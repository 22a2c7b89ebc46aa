"""`ocop-kiosk stamp ...` end to end: exit codes and JSON fields."""

import json

import pytest

import kiosk.cli.main as cli_main
from tests.conftest import copy_data_dir
from tests.stamps.conftest import ISSUED, make_tl, run_stamp_cli, signed

ISSUE_FIELDS = {"text", "serial", "product_id", "key_id", "issued_on"}
VERIFY_FIELDS = {
    "text",
    "verdict",
    "product_id",
    "serial",
    "key_id",
    "issued_on",
    "message_vi",
    "message_en",
}


@pytest.fixture
def cli(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*args):
        code = cli_main.main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    run.data_dir = data
    return run


def _lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def demo_cli(cli, demo_init_template):
    """After `init --demo` (a copy of the session's folder made by that command)."""
    copy_data_dir(demo_init_template, cli.data_dir)
    return cli


def test_issue_and_verify_json(demo_cli):
    code, out, err = demo_cli("stamp", "issue", "--product", "101", "--count", "3", "--json")
    assert code == 0, err
    stamps = _lines(out)
    assert len(stamps) == 3 and all(set(s) >= ISSUE_FIELDS for s in stamps)
    assert [s["serial"] for s in stamps] == [1, 2, 3]
    assert {s["product_id"] for s in stamps} == {101} and stamps[0]["key_id"] == 1
    texts = [s["text"] for s in stamps]
    changed = texts[0][:-1] + ("B" if texts[0].endswith("A") else "A")
    code, out, err = demo_cli(
        "stamp", "verify", *texts, "hello", changed, "--json", "--today", "2026-11-29"
    )
    assert code == 0, err
    results = _lines(out)
    assert all(set(r) >= VERIFY_FIELDS for r in results)
    assert [r["verdict"] for r in results] == ["genuine"] * 3 + ["not_ocop", "forged"]
    assert results[0]["serial"] == 1 and results[0]["issued_on"] == stamps[0]["issued_on"]
    assert results[3]["message_vi"] == "Mã này không phải tem OCOP Sơn La."


def test_plain_output(demo_cli):
    code, out, _ = demo_cli("stamp", "issue", "--product", "101")
    text = out.strip()
    assert code == 0 and text.startswith("https://OCOP.SONLA.GOV.VN/S/") and len(text) == 212
    code, out, _ = demo_cli("stamp", "verify", text, "--today", "2026-11-29")
    assert code == 0 and out.startswith("genuine  product=101  serial=1")


def test_expire_rotate_revoke_suspect_from_the_cli(demo_cli):
    _, out, _ = demo_cli("stamp", "issue", "--product", "101", "--count", "3")
    old = out.split()
    # Expire: judged as of a day after the rating's 36 months.
    _, out, _ = demo_cli("stamp", "verify", old[0], "--json", "--today", "2031-01-01")
    assert _lines(out)[0]["verdict"] == "genuine_rating_expired"
    # Rotate: new stamps use key 2; old ones stay genuine.
    code, out, err = demo_cli("stamp", "trust", "rotate")
    assert code == 0 and "key 2" in out, err
    _, out, _ = demo_cli("stamp", "issue", "--product", "101", "--json")
    new = _lines(out)[0]
    assert new["key_id"] == 2
    _, out, _ = demo_cli("stamp", "verify", *old, new["text"], "--json", "--today", "2026-11-29")
    assert [r["verdict"] for r in _lines(out)] == ["genuine"] * 4
    # Revoke a range, mark a suspect, revoke key 2.
    assert demo_cli("stamp", "trust", "revoke", "--serials", "1-1", "--reason", "lost")[0] == 0
    assert demo_cli("stamp", "trust", "suspect", "2")[0] == 0
    assert demo_cli("stamp", "trust", "revoke", "--key", "2", "--from", "2020-01-01")[0] == 0
    _, out, _ = demo_cli("stamp", "verify", *old, new["text"], "--json", "--today", "2026-11-29")
    assert [r["verdict"] for r in _lines(out)] == ["revoked", "suspect_clone", "genuine", "revoked"]
    code, out, _ = demo_cli("stamp", "trust", "show")
    assert code == 0 and "trust list 5" in out and "revoked serials 1-1 lost" in out
    code, out, _ = demo_cli("stamp", "trust", "show", "--json")
    assert _lines(out)[0]["sequence"] == 5


def test_usage_errors_exit_2(demo_cli):
    assert demo_cli("stamp", "trust", "revoke", "--key", "1")[0] == 2  # needs --from
    with pytest.raises(SystemExit) as info:
        demo_cli("stamp", "issue", "--product", "0")
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        demo_cli("stamp", "issue", "--product", "16777216")


def test_before_init_exit_2(cli):
    code, out, err = cli("stamp", "verify", "hello")
    assert code == 2 and "init" in err


def test_station_block_runs_out(cli, keys, monkeypatch, tmp_path):
    """A real station: no demo key, root pinned in config, stamps only from its block."""
    monkeypatch.setenv("OCOP_KIOSK_ROOT_KEY", keys.root_b64)
    assert cli("init")[0] == 0
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(signed(keys, make_tl(keys)))
    code, out, err = cli("stamp", "trust", "import", str(trust_file))
    assert code == 0 and "trust list 1" in out, err
    code, out, err = cli("stamp", "trust", "import", str(trust_file))  # again: no-op
    assert code == 0
    code, out, err = cli("stamp", "issue", "--product", "101")
    assert code == 2 and "only 0" in err
    from kiosk.settings import load_settings
    from kiosk.stamps.service import receive_stamp_block
    from kiosk.store import Store

    store = Store.in_dir(cli.data_dir)
    receive_stamp_block(
        store, load_settings(), 101, [keys.signer1.sign(101, s, ISSUED) for s in (7, 8)]
    )
    store.close()
    code, out, err = cli("stamp", "issue", "--product", "101", "--count", "3")
    assert code == 2 and "only 2" in err and out == ""
    code, out, err = cli("stamp", "issue", "--product", "101", "--count", "2", "--json")
    assert code == 0 and [s["serial"] for s in _lines(out)] == [7, 8]
    # Demo commands refuse on a station.
    code, out, err = cli("stamp", "trust", "rotate")
    assert code == 2 and "init --demo" in err
    # A trust list signed by another root is refused.
    import datetime as dt

    from ocop.stamps.signer import make_trust_list, sign_trust_list, signing_key_entry

    other = make_trust_list(
        keys.other_root,
        sequence=2,
        signing_keys=[signing_key_entry(1, keys.k1, dt.date(2020, 1, 1))],
    )
    trust_file.write_text(sign_trust_list(other, keys.other_root))
    code, out, err = cli("stamp", "trust", "import", str(trust_file))
    assert code == 2 and "another root" in err


def test_subprocess_stdin_and_junk(tmp_path, demo_init_template):
    data = str(copy_data_dir(demo_init_template, tmp_path / "d"))
    issued = run_stamp_cli("--data-dir", data, "stamp", "issue", "--product", "101", "--count", "2")
    assert issued.returncode == 0, issued.stderr
    junk = "x" * 10_000
    stdin = issued.stdout + junk + "\n\n" + "ỐCOP ✓ \x01\n" + "8934563138165\n"
    result = run_stamp_cli(
        "--data-dir",
        data,
        "stamp",
        "verify",
        "-",
        "--json",
        "--today",
        "2026-11-29",
        input_text=stdin,
    )
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line)["verdict"] for line in result.stdout.splitlines()]
    assert verdicts == ["genuine", "genuine", "not_ocop", "not_ocop", "product_barcode"]
