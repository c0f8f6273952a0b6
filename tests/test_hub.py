"""The hub on its own, without a server: fan-out, staff frames, controls, duplicates, skips."""

from __future__ import annotations

from dataclasses import dataclass

from counterline.realtime.controls import CloseSession, Notice, Subscribe, Unsubscribe, control
from counterline.realtime.events import Envelope
from counterline.realtime.hub import (
    CLOSE_SESSION_ENDED,
    CLOSE_SLOW_CONSUMER,
    OUTBOX_LIMIT,
    UNSENT_BYTES_LIMIT,
    Connection,
    Frame,
    Hub,
)
from counterline.streams.endpoint import _drop_already_sent


class RecordingWriter:
    """A socket's frame writer that keeps what it was given."""

    def __init__(self, unsent: int = 0) -> None:
        self.written: list[bytes] = []
        self.unsent = unsent

    def write(self, frame: bytes) -> bool:
        self.written.append(frame)
        return True

    def unsent_bytes(self) -> int:
        return self.unsent


async def _send(text: str) -> None:
    raise AssertionError("the hub never awaits a send")


def connect(
    hub: Hub,
    user_id: int,
    streams: list[str],
    *,
    staff: bool = False,
    session_id: int | None = None,
    writer: RecordingWriter | None = None,
) -> Connection:
    connection = Connection(_send, user_id, staff=staff, session_id=session_id, writer=writer)  # type: ignore[arg-type]
    connection.direct = writer is not None
    hub.attach(connection, streams)
    return connection


def message(message_id: int, stream: str = "room:1") -> Envelope:
    return Envelope(
        stream=stream,
        type="message.posted",
        frame=f'{{"id":{message_id}}}',
        staff_frame=f'{{"id":{message_id},"client_ip":"10.0.0.1"}}',
        key=f"message:{message_id}",
        message_id=message_id,
    )


def texts(connection: Connection) -> list[str]:
    return [frame.text for frame in connection.outbox]


def test_one_encoded_frame_is_written_to_every_subscriber():
    hub = Hub()
    writers = [RecordingWriter() for _ in range(3)]
    for user_id, writer in enumerate(writers, start=1):
        connect(hub, user_id, ["room:1"], writer=writer)
    connect(hub, 9, ["room:2"], writer=(elsewhere := RecordingWriter()))

    hub.deliver(message(7))

    first = writers[0].written[0]
    assert first.endswith(b'{"id":7}')
    assert all(len(w.written) == 1 and w.written[0] is first for w in writers)
    assert elsewhere.written == []
    assert hub.delivered == 3


def test_queued_sockets_share_one_frame_object():
    hub = Hub()
    first, second = connect(hub, 1, ["room:1"]), connect(hub, 2, ["room:1"])
    hub.deliver(message(7))
    assert first.outbox[0] is second.outbox[0]
    assert first.outbox[0].message_id == 7


def test_staff_get_the_staff_frame_and_others_the_public_one():
    hub = Hub()
    clerk, manager = connect(hub, 1, ["room:1"]), connect(hub, 2, ["room:1"], staff=True)
    hub.deliver(message(7))
    assert texts(clerk) == ['{"id":7}']
    assert texts(manager) == ['{"id":7,"client_ip":"10.0.0.1"}']


def test_an_envelope_crosses_redis_unchanged():
    envelope = message(7)
    with_controls = Envelope("user:1", "t", "{}", controls=(Subscribe(1, "room:3"),), key="k")
    assert Envelope.from_json(envelope.to_json()) == envelope
    assert Envelope.from_json(with_controls.to_json()) == with_controls


def test_an_event_received_twice_is_delivered_once():
    hub = Hub()
    clerk = connect(hub, 1, ["room:1"])
    hub.deliver(message(7))
    hub.deliver(Envelope.from_json(message(7).to_json()))
    assert texts(clerk) == ['{"id":7}']
    assert hub.last_message_id == 7


def test_controls_decoded_from_json_apply():
    hub = Hub()
    clerk = connect(hub, 1, ["user:1"], session_id=5)
    other_tab = connect(hub, 1, ["user:1"], session_id=6)
    joined = Envelope("user:1", "room.joined", "{}", controls=(Subscribe(1, "room:3"),))

    hub.deliver(Envelope.from_json(joined.to_json()))
    hub.deliver(message(8, stream="room:3"))
    assert texts(clerk)[-1] == '{"id":8}'

    left = Envelope("user:1", "room.left", "{}", controls=(Unsubscribe(1, "room:3"),))
    hub.deliver(Envelope.from_json(left.to_json()))
    hub.deliver(message(9, stream="room:3"))
    assert texts(clerk)[-1] == "{}"

    ended = Envelope("user:1", "session.ended", "{}", controls=(CloseSession(1, 5),))
    hub.deliver(Envelope.from_json(ended.to_json()))
    assert clerk.closed and clerk.close_code == CLOSE_SESSION_ENDED
    assert not other_tab.closed


@control("test.hub.noticed")
@dataclass(frozen=True, slots=True)
class Noticed(Notice):
    """A kind of control the hub has never heard of: it needs no edit to apply it."""

    user_ids: list[int]


def test_a_new_kind_of_notice_reaches_its_listeners_through_json():
    hub = Hub()
    heard: list[Noticed] = []
    hub.on(Noticed, heard.append)
    envelope = Envelope("control", "test", "{}", controls=(Noticed([1, 2]),))

    hub.deliver(Envelope.from_json(envelope.to_json()))

    assert heard == [Noticed([1, 2])]


def test_unknown_controls_are_skipped_and_the_frame_still_delivered():
    hub = Hub()
    clerk = connect(hub, 1, ["room:1"])
    raw = '["room:1", "x", "{}", null, [["from.a.newer.node", {}]], null, null]'
    hub.deliver(Envelope.from_json(raw))
    assert texts(clerk) == ["{}"]


def test_at_publish_controls_apply_before_the_broker_brings_them_back():
    @control("test.hub.early")
    @dataclass(frozen=True, slots=True)
    class Early(Notice):
        at_publish = True
        n: int

    hub = Hub()
    heard: list[Notice] = []
    hub.on(Early, heard.append)
    hub.on(Noticed, heard.append)
    hub.apply_at_publish([Envelope("control", "t", "{}", controls=(Early(1), Noticed([2])))])
    assert heard == [Early(1)]


def test_a_socket_skips_messages_it_already_sent_from_the_database():
    hub = Hub()
    clerk = connect(hub, 1, ["room:1"])
    clerk.skip_through = 10
    for message_id in (9, 10, 11):
        hub.deliver(message(message_id))
    clerk.push(Frame('{"type":"pong"}'))
    assert texts(clerk) == ['{"id":11}', '{"type":"pong"}']


def test_frames_queued_during_catch_up_are_dropped_by_their_message_id():
    hub = Hub()
    clerk = connect(hub, 1, ["room:1", "presence"])
    hub.deliver(message(4))
    hub.deliver(Envelope("presence", "presence.changed", '{"online":[4]}'))
    hub.deliver(message(5))

    _drop_already_sent(clerk, sent_through=4)

    assert texts(clerk) == ['{"online":[4]}', '{"id":5}']
    assert clerk.skip_through == 4


def test_a_slow_consumer_is_closed():
    hub = Hub()
    queued = connect(hub, 1, ["room:1"])
    writer = RecordingWriter(unsent=UNSENT_BYTES_LIMIT + 1)
    direct = connect(hub, 2, ["room:1"], writer=writer)
    for message_id in range(1, OUTBOX_LIMIT + 2):
        hub.deliver(message(message_id))
    assert queued.closed and queued.close_code == CLOSE_SLOW_CONSUMER
    assert len(queued.outbox) == OUTBOX_LIMIT
    assert direct.closed and direct.close_code == CLOSE_SLOW_CONSUMER
    assert len(writer.written) == 1
