"""Acquires a PRT under protocol v4 with roadlib, as `roadtx prt -a request -v4 -r file` means to:
roadtx 1.22's command calls `calculate_derived_key_ecdh`, which roadlib does not have (the
method is `decrypt_auth_response_ecdh`), so this calls roadlib's functions in the command's
order. Run in the directory where `roadtx gettokens` and `roadtx device -a join --device-type
macos14 -n macdev` left `.roadtools_auth`, `macdev.pem` and `macdev.key`; the argument is the
proxy (host:port). Writes `roadtx.prt` for `roadtx prtauth -v4`."""

import json
import sys
import warnings

from roadtools.roadlib.auth import Authentication
from roadtools.roadlib.deviceauth import DeviceAuthentication

warnings.filterwarnings("ignore")
proxy = sys.argv[1]
auth = Authentication()
auth.proxies = {"http": f"http://{proxy}", "https": f"http://{proxy}"}
auth.verify = False
device = DeviceAuthentication(auth)
device.proxies = auth.proxies
device.verify = False
device.loadcert("macdev.pem", "macdev.key")
refresh_token = json.load(open(".roadtools_auth"))["refreshToken"]
payload = device.gen_prtv4_req_payload(refresh_token)
answer = device.request_token_with_devicekey_signed_payload_prtprotocolv4(payload)
prt = json.loads(device.decrypt_auth_response_ecdh(answer, "HOI"))
prt["session_key"] = ""
device.saveprt(prt, "roadtx.prt")
print("IDSCOPE_ROADTX_PRT_OK")
