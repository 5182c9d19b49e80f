"""mitmdump addon for idscope's interop test: counts the flows mitmproxy loaded.

Run as `mitmdump -nr FILE -s count_flows.py`; prints `IDSCOPE_FLOW_COUNT=N` when mitmdump is
done (every loaded HTTP flow passes through the `request` hook exactly once).
"""


class CountFlows:
    def __init__(self) -> None:
        self.count = 0

    def request(self, flow) -> None:
        self.count += 1

    def done(self) -> None:
        print(f"IDSCOPE_FLOW_COUNT={self.count}", flush=True)


addons = [CountFlows()]
