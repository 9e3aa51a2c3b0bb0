"""The replicated server: the Ready loop that drives the Raft core, the durable log and the
state machine (replica), the inputs it waits for (inbox) and the requests waiting on it
(requests), what applying an entry does (statemachine, payload) and the /v2/stats
accounting (stats). May import the cores, storage, membership and v2; never http, peer or
node: what it needs of them comes in as Protocols."""

__all__: list[str] = []
