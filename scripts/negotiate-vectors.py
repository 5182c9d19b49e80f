#!/usr/bin/env python3
"""Makes the Negotiate / Kerberos / NTLM test vectors in decoders/tests/fixtures/negotiate/ with
independent implementations: Debian's MIT Kerberos (krb5-kdc, krb5-user, krb5-admin-server),
python-gssapi over MIT's GSS-API library, pyspnego and impacket (PyPI).

    apt-get install krb5-kdc krb5-user krb5-admin-server libkrb5-dev
    pip install gssapi pyspnego impacket
    python3 scripts/negotiate-vectors.py decoders/tests/fixtures/negotiate

A throwaway MIT KDC for realm CONTOSO.TEST runs on loopback in a temporary directory; the KDC
traffic of kinit and kvno goes through a small TCP relay here that keeps every message. Each vector
is written as the base64 of its bytes (`NAME.b64`), the way it travels in a header. Tokens differ
from run to run (keys, nonces, timestamps): the tests assert their structure, not their bytes.
"""

import base64
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

REALM = "CONTOSO.TEST"
SERVICE = "HTTP/autologon.microsoftazuread-sso.com"
LEGACY = "HTTP/legacy.contoso.test"
PASSWORD = "Passw0rd!"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(out, name, data):
    with open(os.path.join(out, name + ".b64"), "w") as f:
        f.write(base64.b64encode(data).decode() + "\n")
    print(f"{name}: {len(data)} bytes")


class Relay(threading.Thread):
    """Forwards TCP Kerberos messages (4-byte length prefix) to the KDC and keeps them."""

    def __init__(self, listen, kdc):
        super().__init__(daemon=True)
        self.kdc = kdc
        self.messages = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen))
        self.sock.listen(8)

    @staticmethod
    def read_msg(s):
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                return None
            head += chunk
        (n,) = struct.unpack(">I", head)
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                return None
            body += chunk
        return head + body

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c, socket.create_connection(("127.0.0.1", self.kdc)) as k:
                req = self.read_msg(c)
                if req is None:
                    continue
                k.sendall(req)
                rep = self.read_msg(k)
                if rep is None:
                    continue
                c.sendall(rep)
                self.messages.append((req[4:], rep[4:]))


def kerberos(out, tmp):
    kdc_port, relay_port = free_port(), free_port()
    conf = os.path.join(tmp, "krb5.conf")
    kdcconf = os.path.join(tmp, "kdc.conf")
    with open(conf, "w") as f:
        f.write(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  udp_preference_limit = 1
  allow_weak_crypto = true
  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac
  rdns = false
[realms]
  {REALM} = {{
    kdc = 127.0.0.1:{relay_port}
  }}
""")
    with open(kdcconf, "w") as f:
        f.write(f"""[kdcdefaults]
  kdc_listen = 127.0.0.1:{kdc_port}
  kdc_tcp_listen = 127.0.0.1:{kdc_port}
[realms]
  {REALM} = {{
    database_name = {tmp}/principal
    key_stash_file = {tmp}/stash
    acl_file = {tmp}/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal rc4-hmac:normal
  }}
[logging]
  kdc = FILE:{tmp}/kdc.log
""")
    env = dict(os.environ, KRB5_CONFIG=conf, KRB5_KDC_PROFILE=kdcconf,
               KRB5CCNAME=f"FILE:{tmp}/ccache", KRB5_KTNAME=f"FILE:{tmp}/keytab",
               KRB5_CLIENT_KTNAME=f"FILE:{tmp}/none.keytab")
    os.environ.update(env)
    def run(*a, **k):
        r = subprocess.run(list(a), env=env, capture_output=True, **k)
        if r.returncode:
            sys.exit(f"{a[0]} failed: {r.stderr.decode(errors='replace')}")
        return r
    run("kdb5_util", "create", "-s", "-r", REALM, "-P", "master-key-for-tests")
    kadmin = lambda q: run("kadmin.local", "-r", REALM, "-q", q)
    kadmin(f"addprinc -pw {PASSWORD} +requires_preauth alice")
    kadmin(f"addprinc -randkey {SERVICE}")
    kadmin(f"addprinc -randkey -e rc4-hmac:normal {LEGACY}")
    kadmin(f"ktadd -k {tmp}/keytab {SERVICE}")
    kadmin(f"ktadd -k {tmp}/keytab -e rc4-hmac:normal {LEGACY}")
    kadmin(f"ktadd -k {tmp}/keytab.service-only -norandkey {SERVICE}")
    kdc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay = Relay(relay_port, kdc_port)
    relay.start()
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", kdc_port)).close()
                break
            except OSError:
                time.sleep(0.1)
        # An unknown client: the KDC answers KDC_ERR_C_PRINCIPAL_UNKNOWN.
        subprocess.run(["kinit", f"nobody@{REALM}"], env=env, input=b"x\n", capture_output=True)
        run("kinit", f"alice@{REALM}", input=(PASSWORD + "\n").encode())
        run("kvno", f"{SERVICE}@{REALM}")
        run("kvno", f"{LEGACY}@{REALM}")
        kdc_messages(out, relay.messages)
        gss(out)
    finally:
        kdc.terminate()
        kdc.wait()
        relay.sock.close()


def kdc_messages(out, messages):
    """Names the relayed KDC exchanges by their ASN.1 application tag."""
    names = {0x6A: "as-req", 0x6B: "as-rep", 0x6C: "tgs-req", 0x6D: "tgs-rep", 0x7E: "krb-error"}
    seen = {}
    for req, rep in messages:
        for data in (req, rep):
            base = names.get(data[0], f"kdc-{data[0]:02x}")
            n = seen.get(base, 0) + 1
            seen[base] = n
            write(out, f"krb5-{base}-{n}", data)


def gss(out):
    import gssapi

    spnego = gssapi.Mechanism.from_sasl_name("SPNEGO")
    krb5 = gssapi.MechType.kerberos
    flags = [gssapi.RequirementFlag.mutual_authentication, gssapi.RequirementFlag.integrity,
             gssapi.RequirementFlag.out_of_sequence_detection]
    for mech, name in ((spnego, "spnego"), (krb5, "gss-krb5")):
        target = gssapi.Name(SERVICE.replace("/", "@"), gssapi.NameType.hostbased_service)
        client = gssapi.SecurityContext(name=target, mech=mech, flags=flags, usage="initiate")
        token = client.step()
        write(out, f"{name}-ap-req", token)
        server = gssapi.SecurityContext(creds=None, usage="accept")
        answer = server.step(token)
        if answer:
            write(out, f"{name}-ap-rep", answer)
    # A ticket for the RC4-only service, by raw Kerberos.
    legacy = gssapi.Name(LEGACY.replace("/", "@"), gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=legacy, mech=krb5, flags=flags, usage="initiate")
    write(out, "gss-krb5-rc4-ap-req", ctx.step())
    # An AP-REQ whose authenticator was altered on the way (its last byte flipped): MIT's
    # acceptor answers with a KRB-ERROR token (KRB_AP_ERR_BAD_INTEGRITY).
    client = gssapi.SecurityContext(name=legacy, mech=krb5, flags=flags, usage="initiate")
    token = bytearray(client.step())
    token[-1] ^= 0x01
    # python-gssapi hands the error token back as the step's output.
    answer = gssapi.SecurityContext(creds=None, usage="accept").step(bytes(token))
    write(out, "gss-krb5-krb-error", answer)


def ntlm(out, tmp):
    import spnego
    import spnego.channel_bindings

    users = os.path.join(tmp, "ntlm-users")
    with open(users, "w") as f:
        f.write(f"CONTOSO:alice:{PASSWORD}\n")
    os.environ["NTLM_USER_FILE"] = users
    # No Kerberos ticket: Negotiate falls back to NTLM inside SPNEGO.
    os.environ["KRB5CCNAME"] = f"FILE:{tmp}/empty-ccache"
    os.environ["NETBIOS_COMPUTER_NAME"] = "WORKSTATION1"
    cbt = spnego.channel_bindings.GssChannelBindings(
        application_data=b"tls-server-end-point:" + bytes(range(32)))
    cases = [("ntlm", "ntlm", None, "3"), ("ntlm-cbt", "ntlm", cbt, "3"),
             ("ntlm-v1", "ntlm", None, "1"), ("spnego-ntlm", "negotiate", None, "3")]
    # pyspnego's own NTLM and SPNEGO code, not a GSS-API library's.
    own = {"ntlm": spnego.NegotiateOptions.use_ntlm,
           "negotiate": spnego.NegotiateOptions.use_negotiate}
    for name, protocol, cb, level in cases:
        os.environ["LM_COMPAT_LEVEL"] = level
        c = spnego.client(f"CONTOSO\\alice", PASSWORD, hostname="web.contoso.test",
                          service="HTTP", protocol=protocol, channel_bindings=cb,
                          options=own[protocol])
        s = spnego.server(protocol=protocol, channel_bindings=cb, options=own[protocol])
        t1 = c.step()
        t2 = s.step(t1)
        t3 = c.step(t2)
        write(out, f"{name}-1", t1)
        write(out, f"{name}-2", t2)
        write(out, f"{name}-3", t3)
        t4 = s.step(t3)
        if t4:
            write(out, f"{name}-4", t4)
    # impacket's own NTLM client (anonymous and with a user), against the pyspnego challenge.
    from impacket import ntlm as imp

    t1 = imp.getNTLMSSPType1("IMPACKET", "CONTOSO")
    write(out, "impacket-ntlm-1", t1.getData())
    os.environ["LM_COMPAT_LEVEL"] = "3"
    s = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    t2 = s.step(t1.getData())
    t3, _ = imp.getNTLMSSPType3(t1, t2, "alice", PASSWORD, "CONTOSO")
    write(out, "impacket-ntlm-3", t3.getData())
    t3, _ = imp.getNTLMSSPType3(t1, t2, "", "", "")
    write(out, "impacket-ntlm-anonymous-3", t3.getData())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "decoders/tests/fixtures/negotiate"
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="idscope-krb-")
    try:
        kerberos(out, tmp)
        ntlm(out, tmp)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
