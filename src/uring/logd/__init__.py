"""`uring logd`: a durable append-only log server (records are lines, acks are cumulative
counts sent after the fsync that covers them), on one io_uring, with an asyncio twin."""

from uring.logd.protocol import DEFAULT_MAX_RECORD, RecordTooLong, recover_log
from uring.logd.aio_server import AioLogServer, serve_asyncio
from uring.logd.server import LogServer, parse_address, serve

__all__ = ["serve", "serve_asyncio", "LogServer", "AioLogServer", "parse_address", "recover_log",
           "RecordTooLong", "DEFAULT_MAX_RECORD"]
