"""Side-by-side comparison of trionode with a real etcd 3.4 (see harness.py)."""
