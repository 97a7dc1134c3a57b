"""Deadlines, reminders and the CoP as a user meets them: ``intervision run`` fed a script
(time passes with ``/later``), and ``intervision cop ics`` on the command line."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import time_machine

from bot.cli import main
from storage.crypto import configure_cipher

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam: working time
SCRIPT = """\
/as ben
/intervision start ims owner=anna with=clara,david mode=async hours=48
/as anna
My case, pseudonymised: a father who stops coming to appointments.
/as david
/intervision away until 2099-12-31
/later 30h
/later 20h
/as ben
/intervision cop create IMS CoP
/intervision cop schedule quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz
/intervision cop year
/as clara
/intervision cop join
/intervision cop ics
"""


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INTERVISION_KEY_FILE", str(tmp_path / "cli.key"))
    monkeypatch.setenv("INTERVISION_FILES_DIR", str(tmp_path / "files"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "INTERVISION_METHODS_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    configure_cipher(None)


def test_a_console_team_sees_reminders_a_deadline_and_a_year_of_cop_meetings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SCRIPT))

    with time_machine.travel(MONDAY, tick=True):
        assert main(["run"]) == 0

    out = capsys.readouterr().out
    reminded = set(re.findall(r"^\(direct message to (\w+)\) A friendly reminder", out, re.M))
    assert "anna" not in reminded  # she contributed
    assert "david" not in reminded  # he is away
    assert "clara" in reminded
    assert "The time for step 1 of 6" in out
    assert "Step 2 of 6" in out
    assert "Meetings of IMS CoP in the coming twelve months (Europe/Zurich):" in out
    assert "(only clara) Calendar file written:" in out


def test_the_command_line_writes_a_cops_calendar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SCRIPT))
    with time_machine.travel(MONDAY, tick=True):
        main(["run"])
        capsys.readouterr()

        assert main(["cop", "ics", "ims cop", "--output", str(tmp_path / "ims.ics")]) == 0
        assert main(["cop", "ics", "No Such CoP"]) == 1

    calendar = icalendar.Calendar.from_ical((tmp_path / "ims.ics").read_bytes())
    meetings = recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2028, 1, 1))
    assert [m["DTSTART"].dt.date().isoformat() for m in meetings] == [
        "2027-01-05",
        "2027-04-06",
        "2027-07-06",
        "2027-10-05",
    ]
