#!/usr/bin/env python3
"""Writes a Service Bus relay listener conversation with an independent AMQP 1.0 encoder: the
pure-Python one `azure-servicebus` ships (`azure.servicebus._pyamqp`). Prints one JSON object:
the client's and the service's bytes (hex) and the values the Rust test expects to read back.

The transfer's data section holds MC-NMF records (version, mode, via, known encoding 0x07,
preamble end, one sized envelope) around the [MC-NBFS] section 3 example envelope.

    python3 decoders/tests/support/pyamqp_relay.py
"""
import json

from azure.servicebus._pyamqp import _encode as enc
from azure.servicebus._pyamqp import endpoints, message, performatives as p

SAS = ("SharedAccessSignature sr=http%3a%2f%2fcontoso-sb.servicebus.windows.net%2fsvc%2f"
       "&sig=cHlhbXFwLXdyaXR0ZW4tc2lnbmF0dXJlLXZhbHVlISE%3d&se=1700003600&skn=RootManageSharedAccessKey")
VIA = "sb://contoso-sb.servicebus.windows.net/svc_reliable"
# [MC-NBFS] section 3: <s:Envelope …><s:Header><a:Action s:mustUnderstand="1">action</a:Action>
# </s:Header><s:Body><Inventory>0</Inventory></s:Body></s:Envelope>
NBFS_EXAMPLE = bytes([
    0x56, 0x02, 0x0B, 0x01, 0x61, 0x06, 0x0B, 0x01, 0x73, 0x04, 0x56, 0x08, 0x44, 0x0A, 0x1E,
    0x00, 0x82, 0x99, 0x06, 0x61, 0x63, 0x74, 0x69, 0x6F, 0x6E, 0x01, 0x56, 0x0E, 0x40, 0x09,
    0x49, 0x6E, 0x76, 0x65, 0x6E, 0x74, 0x6F, 0x72, 0x79, 0x81, 0x01, 0x01,
])


def frame(performative, channel=0, frame_type=b"\x00"):
    header, body = enc.encode_frame(performative, frame_type)
    return header + channel.to_bytes(2, "big") + (body or b"")


def mb31(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def nmf():
    preamble = b"\x00\x01\x00" + b"\x01\x02" + b"\x02" + mb31(len(VIA)) + VIA.encode() + b"\x03\x07" + b"\x0c"
    return preamble + b"\x06" + mb31(len(NBFS_EXAMPLE)) + NBFS_EXAMPLE


def main():
    sasl = b"AMQP\x03\x01\x00\x00"
    amqp = b"AMQP\x00\x01\x00\x00"
    source = endpoints.Source(address="sb://contoso-sb.servicebus.windows.net/svc/", durable=None, expiry_policy=None,
                              timeout=None, dynamic=None, dynamic_node_properties=None, distribution_mode=None,
                              filters=None, default_outcome=None, outcomes=None, capabilities=None)
    target = endpoints.Target(address="RelayLink_target", durable=None, expiry_policy=None, timeout=None,
                              dynamic=None, dynamic_node_properties=None, capabilities=None)
    client = b"".join([
        sasl,
        frame(p.SASLInit(mechanism=b"EXTERNAL", initial_response=None, hostname=None), frame_type=b"\x01"),
        amqp,
        frame(p.OpenFrame(container_id="RelayConnection_pyamqp", hostname="contoso-sb-relay.servicebus.windows.net",
                          max_frame_size=65536, channel_max=8191, idle_timeout=None, outgoing_locales=None,
                          incoming_locales=None, offered_capabilities=None, desired_capabilities=None,
                          properties=None)),
        frame(p.BeginFrame(remote_channel=None, next_outgoing_id=1, incoming_window=5000, outgoing_window=5000,
                           handle_max=262143, offered_capabilities=None, desired_capabilities=None,
                           properties=None)),
        frame(p.AttachFrame(name="RelayLink_pyamqp:in", handle=1, role=True, send_settle_mode=None,
                            rcv_settle_mode=None, source=source, target=target, unsettled=None,
                            incomplete_unsettled=None, initial_delivery_count=None, max_message_size=None,
                            offered_capabilities=None, desired_capabilities=None,
                            properties={"com.microsoft:swt": SAS,
                                        "com.microsoft:listener-type": "RelayedConnection"})),
        frame(p.FlowFrame(next_incoming_id=1, incoming_window=5000, next_outgoing_id=1, outgoing_window=5000,
                          handle=1, delivery_count=0, link_credit=1000, available=0, drain=None, echo=False,
                          properties=None)),
        frame(None),
        frame(p.DispositionFrame(role=True, first=0, last=None, settled=True, state=None, batchable=None)),
        frame(p.DetachFrame(handle=1, closed=True, error=None)),
        frame(p.EndFrame(error=None)),
        frame(p.CloseFrame(error=None)),
    ])
    msg = message.Message(data=[nmf()], properties=message.Properties(message_id="pyamqp-1", subject="OnewaySend"),
                          application_properties={"TrackingId": "7a3c"})
    payload = enc.encode_payload(bytearray(), msg)
    service = b"".join([
        sasl,
        frame(p.SASLMechanism(sasl_server_mechanisms=[b"EXTERNAL"]), frame_type=b"\x01"),
        frame(p.SASLOutcome(code=0, additional_data=None), frame_type=b"\x01"),
        amqp,
        frame(p.OpenFrame(container_id="relay-service", hostname=None, max_frame_size=65536, channel_max=4999,
                          idle_timeout=240000, outgoing_locales=None, incoming_locales=None,
                          offered_capabilities=None, desired_capabilities=None, properties=None)),
        frame(p.TransferFrame(handle=1, delivery_id=0, delivery_tag=b"\x00\x00\x00\x01", message_format=0,
                              settled=True, more=False, rcv_settle_mode=None, state=None, resume=None,
                              aborted=None, batchable=None, payload=bytes(payload))),
    ])
    print(json.dumps({
        "client": client.hex(),
        "service": service.hex(),
        "expect": {"sas": SAS, "via": VIA, "container": "RelayConnection_pyamqp", "message_id": "pyamqp-1"},
    }))


if __name__ == "__main__":
    main()
