"""`pytest tests/raft --rewrite` (or TRIONODE_REWRITE=1 from anywhere) regenerates the
expected output of the transcripts in testdata/."""


def pytest_addoption(parser):
    parser.addoption("--rewrite", action="store_true", default=False,
                     help="rewrite tests/raft/testdata/*.txt with the actual output")
