"""The book's checked pipeline, one module per concern (the entry point is scripts/book):

  config    where everything is (ROOT, TARGET, the work folders), which CPython runs the book,
            the versions verified (VERIFIED), and Fail, the error the user sees
  steps     the steps and their commands.toml; each command's expectation per CPython version,
            and the note under a version-specific output
  build     one cargo build, staging each step's artifacts, content deciding what is stale
  run       running a command: clean environment, work folder, timeouts, subreaper, shapes
  verdicts  a run compared with its expectation, failure reports and boxes, the cache of passing
            results, the page output of a checked result, blessing
  checks    after `mdbook build`: reports, mdbook's log, markers, includes, the rendered HTML
  cli       the subcommands (prepare, show, step, bless, check, list)
"""
