"""The ``intervision`` command line, as a user runs it."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.cli import main
from storage.crypto import configure_cipher


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INTERVISION_KEY_FILE", str(tmp_path / "cli.key"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "INTERVISION_METHODS_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    configure_cipher(None)


def test_demo_plays_every_ims_step_in_german_and_prints_the_record(capsys) -> None:
    assert main(["demo", "--method", "ims", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    for number in range(1, 7):
        assert f"Schritt {number} von 6" in out
    assert "# Prozessdokumentation: IMS" in out
    assert "Was das Team gemeinsam tun wird" in out


def test_demo_plays_the_moed_en_lef_board_in_dutch_with_the_discomfort_tally(capsys) -> None:
    assert main(["demo", "--method", "moed-en-lef", "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert "# Verslag: Intervisiebord professionele moed en lef" in out
    assert "(angst): 1" in out
    assert "meldcode" in out.lower()


@pytest.mark.parametrize(
    "method",
    ["kollegiale-beratung", "incidentmethode", "balint", "roddelmethode", "heilsbronner"],
)
def test_demo_runs_every_built_in_method_to_its_record(method: str, capsys) -> None:
    assert main(["demo", "--method", method, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "# Record:" in out
    assert "This step was not reached." not in out


def test_demo_shows_the_silent_case_owner_being_told(capsys) -> None:
    main(["demo", "--method", "kollegiale-beratung", "--lang", "en"])
    assert "(only anna) In this step the case owner only listens." in capsys.readouterr().out


def test_methods_json_lists_ids_names_and_step_counts(capsys) -> None:
    assert main(["methods", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["ims"]["steps"] == 6
    assert set(rows["ims"]["names"]) == {"nl", "de", "en"}
    assert len(rows) == 7


def test_methods_show_prints_the_steps_with_their_rules(capsys) -> None:
    assert main(["methods", "show", "kollegiale-beratung", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    assert "Hört nur zu: Fallgeber·in." in out
    assert "Sammelt: eine Abstimmung" in out


def test_a_broken_method_file_is_refused_and_the_rest_still_loads(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog
) -> None:
    own = workdir / "methods"
    own.mkdir()
    (own / "broken.yaml").write_text("id: broken\nnames: [oops\n", encoding="utf-8")
    monkeypatch.setenv("INTERVISION_METHODS_DIR", str(own))
    with caplog.at_level(logging.ERROR):
        assert main(["methods", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 7
    assert f"{own / 'broken.yaml'}:" in caplog.text


def test_run_reads_a_scripted_session_from_a_pipe(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    script = (
        "/as ben\n/intervision start ims owner=anna\n/as anna\nThe case.\n/intervision status\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "[4] anna: The case." in out
    assert "(only anna) IMS" in out


def test_export_writes_the_record_as_markdown(workdir: Path, capsys) -> None:
    main(["demo", "--method", "ims", "--lang", "en"])
    session_id = capsys.readouterr().out.rsplit("intervision export ", 1)[1].split()[0]
    target = workdir / "record.md"
    assert main(["export", session_id, "--format", "md", "--output", str(target)]) == 0
    assert target.read_text("utf-8").startswith("# Record: IMS")


def test_export_of_an_unknown_session_says_so(capsys) -> None:
    assert main(["export", "nope"]) == 1
    assert "Session nope not found." in capsys.readouterr().err


def test_db_upgrade_migrates_an_empty_database(workdir: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert (workdir / "cli.db").exists()
