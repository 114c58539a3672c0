"""The judges' websocket protocol, read strictly (docs/live.md).

Every message a client sends is decoded here before anything else looks at it: a JSON object of
bounded size and nesting, a known ``type``, ids that are JSON integers within the columns' range,
text fields within their declared maximum (domain/limits.py). Anything else is refused with
``bad_message`` and a Chinese message naming the field; nothing is cut, coerced or guessed (a
``station`` of 5.9 never lands on station 5). Every text a client can receive is written here (or
in domain/aggregation.py for the value checks), so the protocol test can hold it against the docs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contest.domain import limits
from contest.domain.text import N_, Text

MAX_MESSAGE_CHARS = 16_384  # a mark is ~200 characters; longer texts are refused, the socket stays open
MAX_DEPTH = 4  # objects and arrays inside one another (a judge's messages are flat)
ID_MAX = limits.ID_MAX  # the id and station columns are 32-bit integers (PostgreSQL INTEGER)
COUNT_MAX = limits.ID_MAX  # pending marks, ages in seconds
INT_DIGITS = 4_300  # Python's int() refuses longer digit strings (sys.int_info.default_max_str_digits)

CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$", re.ASCII)

# Error codes of the protocol with their default Chinese messages (docs/live.md, "Error codes"). The
# messages are sent in the connection's language (live/sockets.py): marked for the catalogs here.
ERRORS: dict[str, str] = {
    "bad_message": N_("消息格式不正确"),
    "not_a_judge": N_("当前账号不是裁判"),
    "unknown_item": N_("赛项不存在"),
    "item_closed": N_("该赛项当前不接受评分"),
    "not_assigned": N_("您未被分配到该赛项"),
    "unknown_station": N_("工位号不存在"),
    "unknown_criterion": N_("评分项不属于该赛项"),
    "out_of_range": N_("分值超出范围"),
    "off_step": N_("分值不符合步长"),
    "not_a_number": N_("分值不是有效数字"),
    "conflict": N_("您与该参赛单元需要回避,不能评分"),
    "taken": N_("该测量分已由其他裁判录入"),
    "panel_full": N_("该评价分的裁判人数已满"),
    "client_id_reused": N_("client_id 已被其他裁判使用"),
    "server_error": N_("服务器暂时无法保存,标记将自动重发"),
    "unknown_competition": N_("赛事不存在"),
}

# The message variants, as templates ({field} and the like are filled in); docs/live.md lists each.
NOT_JSON = N_("消息不是 JSON 对象")
TOO_LONG = N_("消息过长:最多 {max} 个字符")
TOO_DEEP = N_("消息嵌套过深:最多 {max} 层")
UNKNOWN_TYPE = N_("未知的消息类型")
MISSING = N_("字段 {field} 缺失")
NOT_INTEGER = N_("字段 {field} 应为 {min} 到 {max} 之间的整数")
NOT_STRING = N_("字段 {field} 应为字符串")
NOT_VALUE = N_("字段 value 应为数字或字符串")
BAD_CLIENT_ID = N_("字段 client_id 应为 8-64 位字母、数字或连字符(UUID)")
NO_PERSON = N_("当前账号没有关联裁判人员信息,请联系组织方")

JUDGE_TYPES = ("hello", "mark", "ping")
STATUS_FIELDS = ("device", "app", "pending", "oldest_pending_age")  # hello's and ping's, all optional


class ProtocolError(Exception):
    """A message refused before it is acted on: always ``bad_message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "bad_message"
        self.message = message


@dataclass(frozen=True)
class Status:
    """What a tablet reports about itself (hello and ping); None where it said nothing."""

    device: str | None = None
    app_version: str | None = None
    pending: int | None = None
    oldest_pending_age: int | None = None


def decode(text: str) -> dict[str, Any]:
    """The message as a dict, or ProtocolError. Numbers with a fraction or exponent come back as
    Decimal (exact: ``1e-999999999`` stays what it is, instead of a float that underflows to 0), and
    so do integers too long for int()."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(Text(TOO_LONG, max=MAX_MESSAGE_CHARS))
    try:
        payload = json.loads(text, parse_float=Decimal, parse_int=_integer, parse_constant=_no_constant)
    except RecursionError:
        raise ProtocolError(Text(TOO_DEEP, max=MAX_DEPTH)) from None
    except (ValueError, TypeError):
        raise ProtocolError(NOT_JSON) from None
    if not isinstance(payload, dict):
        raise ProtocolError(NOT_JSON)
    if _depth(payload) > MAX_DEPTH:
        raise ProtocolError(Text(TOO_DEEP, max=MAX_DEPTH))
    return payload


def message_type(payload: dict[str, Any], known: tuple[str, ...]) -> str:
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in known:
        raise ProtocolError(UNKNOWN_TYPE)
    return kind


def _integer(digits: str) -> int | Decimal:
    """A JSON integer as int; one too long for Python's int() (over 4,300 digits, which fits in a
    message) as Decimal, so the field it is in is refused by name, like any other wrong value."""
    return int(digits) if len(digits) <= INT_DIGITS else Decimal(digits)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _depth(value: object) -> int:
    """Nesting depth, iteratively (a message within the size limit cannot nest deep enough to matter,
    but the walk should not recurse anyway)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


# ------------------------------------------------------------------ fields


def integer(payload: dict[str, Any], field: str, low: int = 1, high: int = ID_MAX, required: bool = True) -> int | None:
    """A JSON integer within [low, high]. Not a bool, a float, a numeric string or 5.0."""
    value = payload.get(field)
    if value is None:
        if required:
            raise ProtocolError(Text(MISSING, field=field))
        return None
    if type(value) is not int or not low <= value <= high:
        raise ProtocolError(Text(NOT_INTEGER, field=field, min=low, max=high))
    return value


def text(payload: dict[str, Any], field: str, limit: limits.TextField, required: bool = False) -> str | None:
    """A string within its declared maximum (refused when longer, never cut). null is absent."""
    value = payload.get(field)
    if value is None:
        if required:
            raise ProtocolError(Text(MISSING, field=field))
        return None
    if not isinstance(value, str):
        raise ProtocolError(Text(NOT_STRING, field=field))
    problem = limit.problem(value)
    if problem:
        raise ProtocolError(problem)
    return value


def client_id_of(payload: dict[str, Any]) -> str | None:
    """The message's client_id if it is a well-formed one (to echo in a refusal), else None."""
    value = payload.get("client_id")
    return value if isinstance(value, str) and CLIENT_ID.match(value) else None


def parse_status(payload: dict[str, Any]) -> Status:
    """The optional status fields of hello and ping."""
    return Status(
        device=text(payload, "device", limits.DEVICE),
        app_version=text(payload, "app", limits.APP_VERSION),
        pending=integer(payload, "pending", 0, COUNT_MAX, required=False),
        oldest_pending_age=integer(payload, "oldest_pending_age", 0, COUNT_MAX, required=False),
    )


@dataclass(frozen=True)
class MarkIn:
    client_id: str
    item_id: int
    station: int
    criterion_id: int
    value: str  # as sent, trimmed; read as an exact decimal by the mark service
    reason: str = ""


def parse_mark(payload: dict[str, Any]) -> MarkIn:
    """The mark message's fields, or ProtocolError naming the field that is wrong."""
    client_id = text(payload, "client_id", limits.CLIENT_ID, required=True)
    assert client_id is not None
    if not CLIENT_ID.match(client_id):
        raise ProtocolError(BAD_CLIENT_ID)
    item_id = integer(payload, "item_id")
    station = integer(payload, "station")
    criterion_id = integer(payload, "criterion_id")
    raw = payload.get("value")
    if raw is None:
        raise ProtocolError(Text(MISSING, field="value"))
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ProtocolError(NOT_VALUE)
    value = raw.strip() if isinstance(raw, str) else str(raw)
    problem = limits.MARK_VALUE.problem(value)
    if problem:
        raise ProtocolError(problem)
    reason = text(payload, "reason", limits.REASON) or ""
    assert item_id is not None and station is not None and criterion_id is not None
    return MarkIn(client_id, item_id, station, criterion_id, value, reason)
