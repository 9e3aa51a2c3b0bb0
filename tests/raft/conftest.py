"""`pytest tests/raft --rewrite` (or TRIONODE_REWRITE=1 from anywhere) regenerates the
expected output of the transcripts in testdata/.

A rewrite never passes a run: every transcript it rewrote fails (so the run is red until it
is run again without rewriting, after the diff was reviewed), and under CI=true a rewrite is
refused outright (test_transcripts.py), since CI must check transcripts, never regenerate them.
"""


def pytest_addoption(parser):
    parser.addoption("--rewrite", action="store_true", default=False,
                     help="rewrite tests/raft/testdata/*.txt with the actual output "
                          "(the rewritten transcripts fail; refused under CI=true)")
