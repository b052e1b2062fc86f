"""The book's checked pipeline, one module per concern (the entry point is scripts/book), from the
ground up; each imports only modules above it in this list:

  config       where everything is (ROOT, TARGET, the work folders), which CPython runs the book,
               the versions verified (VERIFIED), and Fail, the error the user sees
  diagrams     the svgbob diagrams of the pages: their ASCII art linted
  commands     the format of commands.toml: one typed record per table, each key a field
  pages        what a page's Markdown says: its markers, links (includes) and listings
  steps        the steps and their commands; each command's expectation per CPython version
  build        one cargo build, staging each step's artifacts, content deciding what is stale
  run          running a command: clean environment, work folder, timeouts, subreaper
  verdicts     judging a run or a cached output; failure reports, boxes and page outputs
  markdown     the checks of the pages' Markdown (markers, includes, listings, order, numbers)
  definitions  the checks of the steps' definitions (keys, settings, expectations, anchors)
  cache        a command's checked output: from the cache of passing results, or run and judged
  rendered     the checks of what mdbook wrote: its log, the rendered HTML
  by_hand      each chapter's by-hand.sh run, and held to the files the book's commands used
  guide        the introduction's tables, made from the steps' definitions: the rewrites, the
               outputs not compared, the outputs per CPython version, what a chapter uses of others
  sources      the archive of the book's sources that `just build` writes beside the pages
  cli          the subcommands (prepare, show, step, bless, check, summary, list)
"""
