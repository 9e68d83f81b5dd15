"""Running the bridge: logs, metrics, the hash gate, graceful stopping and the pre-fork supervisor."""
