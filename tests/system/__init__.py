"""System tests: several real processes, a real server, real sockets."""
