"""Reading `vercel build` logs: each failure the check names comes from the tools' own messages (excerpts of
real runs: pnpm 10, Next.js 14.1, Vercel CLI 58)."""

from __future__ import annotations

from infra.commands.frontend.build_log import parse_failure, strip_ansi, unserved_pins

INSTALL, BUILD = "pnpm install", "pnpm build"

PNPM_404 = """\
Running "install" command: `pnpm install`...
Scope: all 3 workspace projects
../..                                    | Progress: resolved 511, reused 0, downloaded 504, added 147
\x1b[31m ERR_PNPM_FETCH_404 \x1b[39m GET https://registry.npmjs.org/mediasoup-client/-/mediasoup-client-3.18.4.tgz: Not Found - 404

No authorization header was set for the request.
Error: Command "pnpm install" exited with 1
"""

NEXT_TYPE_ERROR = """\
   ▲ Next.js 14.1.0

   Creating an optimized production build ...
 ✓ Compiled successfully
   Linting and checking validity of types ...
Failed to compile.

./src/app/error.tsx:33:27
Type error: Unexpected token. Did you mean `{'}'}` or `&rbrace;`?

\x1b[0m \x1b[90m 31 |\x1b[39m         \x1b[33m<\x1b[39m\x1b[33m/\x1b[39m\x1b[33ma\x1b[39m\x1b[33m>\x1b[39m\x1b[0m
 ELIFECYCLE  Command failed with exit code 1.
Error: Command "pnpm build" exited with 1
"""


def test_ansi_colours_are_stripped():
    assert strip_ansi("\x1b[31m ERR_PNPM_FETCH_404 \x1b[39m x\r\n") == " ERR_PNPM_FETCH_404  x\n"


def test_a_pin_the_registry_no_longer_serves_is_named_with_package_and_version():
    failure = parse_failure(PNPM_404, install_command=INSTALL, build_command=BUILD)

    [problem] = failure.problems
    assert failure.failed_command == "pnpm install"
    assert (problem.kind, problem.package, problem.version) == ("unserved-pin", "mediasoup-client", "3.18.4")
    assert "mediasoup-client@3.18.4" in problem.summary and "no longer serves" in problem.summary
    assert "pnpm update mediasoup-client" in problem.fix


def test_a_scoped_package_from_npms_404_line_is_named_too():
    log = "npm error 404 Not Found - GET https://registry.npmjs.org/@acme/ui/-/ui-2.0.1.tgz - Not found\n"
    [problem] = unserved_pins(log)
    assert (problem.package, problem.version) == ("@acme/ui", "2.0.1")


def test_the_same_unserved_pin_is_named_once():
    assert len(unserved_pins(PNPM_404 + PNPM_404)) == 1


def test_next_builds_type_error_is_named_with_file_line_and_column():
    [problem] = parse_failure(NEXT_TYPE_ERROR, install_command=INSTALL, build_command=BUILD).problems

    assert problem.kind == "type-errors"
    assert problem.locations == ("src/app/error.tsx:33:27 Unexpected token. Did you mean `{'}'}` or `&rbrace;`?",)
    assert "only the first" in problem.summary


def test_a_lockfile_out_of_date_with_package_json_names_the_manifest_and_why():
    log = (
        ' ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date '
        "with <ROOT>/apps/frontend/package.json\n\nNote that in CI environments this setting is true by default.\n\n"
        "  Failure reason:\n  specifiers in the lockfile don't match specifiers in package.json:\n"
        '* 1 dependencies were added: left-pad@^1.3.0\n\nError: Command "pnpm install" exited with 1\n'
    )
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "outdated-lockfile"
    assert "apps/frontend/package.json" in problem.summary and "<ROOT>" not in problem.summary
    assert "left-pad@^1.3.0" in problem.summary


def test_a_missing_module_names_the_file_that_imports_it():
    log = (
        "Failed to compile.\n\n./src/app/page.tsx\nModule not found: Can't resolve 'left-pad'\n\n"
        'https://nextjs.org/docs/messages/module-not-found\n\nError: Command "pnpm build" exited with 1\n'
    )
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "module-not-found"
    assert problem.locations == ("src/app/page.tsx: Can't resolve 'left-pad'",)


def test_a_module_the_compiler_cannot_parse_is_named():
    log = (
        "Failed to compile.\n\n../../node_modules/.pnpm/supports-color@11.0.0/node_modules/supports-color/index.js\n"
        "Error: \n  \x1b[31mx\x1b[0m Unknown regular expression flags.\n"
        'Error: Command "pnpm build" exited with 1\n'
    )
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "compile-error"
    assert (
        "supports-color@11.0.0" in problem.locations[0] and "Unknown regular expression flags" in problem.locations[0]
    )


def test_a_discontinued_node_version_is_a_problem():
    log = 'Error: Node.js Version "18.x" is discontinued and must be upgraded. Please set Node.js Version to 24.x.\n'
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "node-version"
    assert "nodeVersion" in problem.fix


def test_an_unexplained_build_failure_keeps_the_end_of_the_log():
    log = "> next build\n\nSomething odd happened\nat line 12\n" + 'Error: Command "pnpm build" exited with 1\n'
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "build-failed"
    assert "`pnpm build`" in problem.summary
    assert "Something odd happened" in problem.locations


def test_a_vercel_error_without_a_failed_command_is_reported_with_its_message():
    log = 'Vercel CLI 58.10.0\nError: The pattern "app/**/*.ts" defined in `functions` doesn\'t match any Serverless Functions.\n'
    [problem] = parse_failure(log, install_command=INSTALL, build_command=BUILD).problems
    assert problem.kind == "vercel-build-failed"
    assert "doesn't match any Serverless Functions" in problem.summary
