"""The README stays a door (at most 150 lines), and every relative link in it, in docs/ and in app/README.md
leads somewhere: to a file that exists, and to a heading that exists when the link names one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 150
PAGES = [REPO / "README.md", REPO / "app" / "README.md", *sorted((REPO / "docs").glob("*.md"))]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose(text: str) -> str:
    """The page without its fenced code blocks, whose brackets are code, not links."""
    kept, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            kept.append(line)
    return "\n".join(kept)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lowercase, punctuation dropped (not '-' or '_'), spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {
        github_anchor(line.lstrip("#"))
        for line in prose(page.read_text(encoding="utf-8")).splitlines()
        if re.match(r"^#{1,6} ", line)
    }


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)
    ]


def test_the_readme_is_at_most_150_lines():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; move detail to docs/ (limit {README_MAX_LINES})"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path):
    assert page.exists(), f"{page.relative_to(REPO)} is missing"
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not broken, f"broken links in {page.relative_to(REPO)}:\n  " + "\n  ".join(broken)


def test_the_link_check_sees_a_broken_link(tmp_path: Path):
    """The check above can fail: a link to a missing file and one to a missing heading are both found."""
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a-heading) [gone](missing.md) [no heading](there.md#nope) [web](https://example.com)\n"
        "```\n[in code](not-a-link.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["there.md#a-heading", "missing.md", "there.md#nope"]
    assert "nope" not in anchors(tmp_path / "there.md") and "a-heading" in anchors(tmp_path / "there.md")


def setup_commands() -> list[str]:
    """The commands of the README's 'Set up (fresh machine)' block, without their comments."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Set up (fresh machine)\n", 1)
    assert len(section) == 2, "README lacks the 'Set up (fresh machine)' section"
    block = re.search(r"```bash\n(.*?)```", section[1], re.S)
    assert block, "the set-up section has no ```bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.split("#", 1)[0].strip()]


def test_the_readme_has_two_setup_commands_and_the_second_is_what_ci_runs():
    commands = setup_commands()
    assert len(commands) == 2, commands
    assert "uv run chatvista-ops plan" in commands[0], "the first set-up command runs the offline plan"
    ci = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert ci[-1] == commands[1], f".ci/run ends with {ci[-1]!r}, the README's test command is {commands[1]!r}"
