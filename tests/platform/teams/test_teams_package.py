"""``intervision teams package``: the app package Teams admin centre takes."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.platforms.teams.package import RSC_PERMISSIONS, PackageError, manifest

APP_ID = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"
KNOWN_RSC = {"ChannelMessage.Read.Group", "TeamMember.Read.Group", "ChannelSettings.Read.Group"}


def test_the_package_holds_the_manifest_and_two_icons_of_the_right_sizes(tmp_path: Path) -> None:
    target = tmp_path / "app.zip"

    code = main(
        [
            "teams",
            "package",
            "--domain",
            "bot.example.org",
            "--app-id",
            APP_ID,
            "--output",
            str(target),
        ]
    )

    assert code == 0
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        sizes = {
            name: struct.unpack(">II", archive.read(name)[16:24])
            for name in ("color.png", "outline.png")
        }
        built = json.loads(archive.read("manifest.json"))
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    assert built["bots"][0]["botId"] == APP_ID


def test_the_manifest_asks_for_channel_messages_with_web_application_info() -> None:
    built = manifest(APP_ID, "bot.example.org")

    names = {p["name"] for p in built["authorization"]["permissions"]["resourceSpecific"]}
    assert names == set(RSC_PERMISSIONS)
    assert names <= KNOWN_RSC  # the schema lets a misspelt name through
    assert built["webApplicationInfo"] == {
        "id": APP_ID,
        "resource": f"api://bot.example.org/botid-{APP_ID}",
    }
    assert set(built["bots"][0]["scopes"]) == {"team", "personal"}


@pytest.mark.parametrize(
    ("app_id", "domain"), [("not-a-guid", "bot.example.org"), (APP_ID, "https://bot.example.org")]
)
def test_a_bad_app_id_or_domain_is_refused(app_id: str, domain: str) -> None:
    with pytest.raises(PackageError):
        manifest(app_id, domain)


def test_the_command_menus_offer_start_in_a_channel_and_approve_in_the_one_to_one_chat() -> None:
    built = manifest(APP_ID, "bot.example.org")

    menus = {
        scope: [c["title"] for c in menu["commands"]]
        for menu in built["bots"][0]["commandLists"]
        for scope in menu["scopes"]
    }
    assert menus["team"][0] == "start"
    assert {"next", "pause", "resume", "close"} <= set(menus["team"])
    assert "approve" in menus["personal"]
    for menu in built["bots"][0]["commandLists"]:
        assert len(menu["commands"]) <= 10
        for command in menu["commands"]:
            assert len(command["title"]) <= 32
            assert len(command["description"]) <= 128
