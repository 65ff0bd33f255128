"""The paper's Tables 2-4 in miniature (`t2t-experiments`).

`cells.py` defines the tables as training runs, `roles.py` which problem
plays which part, `runner.py` trains them resumably (each run under a
`run_lock.RunLock`), `verdicts.py` and
`report.py` turn the results into Markdown with a verdict per claim, and
`plots.py` draws the dev curves. `pipeline.run_tables` ties them together;
`workers.py` trains the runs in several processes at once (`--workers`).
"""
