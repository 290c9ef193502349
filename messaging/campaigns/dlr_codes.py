"""The documented DLR code table and the mapping onto ``Message.status``.

Sources: the DLR status and error codes of the SMPP chapter (Error Codes,
complete and in the document's order), the Smart Delivery help (Smart Delivery Process: the DLT
rejection statuses it checks) and the WhatsApp/Viber message statuses (Pull DLR Status of
each channel). Codes are 3-digit strings. The file does not say which codes are final; every
code of the table is read as final (a DLR carrying it is the last word on the message).
"""

from __future__ import annotations

# (code, status, description), file order.
DLR_TABLE: tuple[tuple[str, str, str], ...] = (
    ("000", "DELIVRD", "Delivered to SIM."),
    ("001", "INVALID-SUB", "Unidentified subscriber."),
    ("002", "INVALID-SUB", "Illegal subscriber"),
    ("003", "ABSENT-SUB", "Unidentified subscriber."),
    ("004", "HANDSET-ERR", "Illegal equipment"),
    ("005", "BARRED", "SMS is prohibited."),
    ("006", "HANDSET-ERR", "MS does not support SMS."),
    ("007", "HANDSET-ERR", "MS is receiving an error."),
    ("008", "NET-ERR", "Facility not supported."),
    ("009", "MEMEXEC", "Handset memory is full."),
    ("010", "ABSENT-SUB", "Absent subscriber"),
    ("011", "FAILED", "SMSC system failure"),
    ("012", "NET-ERR", "Gateway mobile switching error"),
    ("013", "MOB-OFF", "Mobile handset switched off"),
    ("014", "FAILED", "SMS is undelivered due to roaming limitations."),
    ("015", "INVALID-SUB", "Unidentified subscriber"),
    ("016", "HANDSET-BUSY", "Subscriber is busy."),
    ("017", "NET-ERR", "Resources cannot be used at the GMSC level."),
    ("018", "SERIES-BLK", "Series blocked"),
    ("019", "NET-ERR", "Submission error or invalid input data"),
    ("020", "BARRED", "CUG reject"),
    ("021", "EXPIRED", "SMS timeout"),
    ("034", "UNDELIV", "Unknown Error"),
    ("045", "FAILED", "Unknown Error"),
    ("099", "UNDELIV", "Unknown Error"),
    ("400", "SERIES-BLOCK", "Series has been temporarily or permanently blocked."),
    ("401", "NO-CREDITS", "Credit exhausted."),
    ("402", "NO-ACCOUNT", "Invalid account."),
    ("403", "SERVER-ERR", "Unknown Error"),
    ("404", "INV-NUMBER", "Invalid destination number"),
    ("405", "SERVER-ERR", "ESME client error"),
    ("406", "SERVER-ERR", "ESME client error"),
    ("407", "SPAM", "Sent illegal content"),
    ("408", "DNDNUMB", "Number registered in the DND database."),
    ("430", "SERVER-ERR", "Unknown Error"),
    ("431", "SERVER-ERR", "Unknown Error"),
    ("432", "SERVER-ERR", "Unknown Error"),
    ("433", "SERVER-ERR", "Unknown Error"),
    ("450", "BLACKLST", "Number blocklisted to receive messages"),
    ("451", "SNDR-BLOCK", "Sender ID has been blocked."),
    ("452", "TEMPLATE-NOT-FOUND", "No matching templates"),
    ("453", "INV-TEMPLATE", "Message rejected as template not allotted for ESME"),
    ("454", "INV-SENDER", "Message rejected as sender ID not allotted for ESME"),
    ("455", "NOT-OPTIN", "Message rejected as number not in optin list"),
    ("456", "OPTOUT-REJ", "Rejected as a number optout to receive messages"),
    ("457", "PROMO-TMOUT", "Promotional time exceeded"),
    ("458", "REJECTED", "Unknown Error"),
    ("459", "NOTALLOWED", "Country is not allowed to send SMS."),
    ("460", "DUPLICATE", "Same content was sent."),
    ("461", "UNDELIV", "Unknown Error"),
    ("462", "FAILED", "Unknown Error"),
    ("463", "THROTTLED", "Maximum Sent Limit is Reached"),
    ("778", "REJ-MULTIPART", "All message parts are not delivered to the handset."),
    ("777", "DLT-REJECTED", "Invalid sender ID or invalid template"),
    ("780", "DLT-INV-TMID", "Invalid DLT Telemarketer ID"),
    ("781", "DLT-INV-ENTITY", "Invalid Entity DLT ID"),
    ("782", "DLT-INV-TM-ID", "Invalid DLT Template ID"),
    ("783", "DLT-TM-VAR-EXECEED", "Template variable exceeded 30 characters."),
    ("784", "DLT-ENTITY-NOT-FOUND", "Entity ID not found"),
    ("785", "DLT-TM-BLACKLST", "Template ID is blacklisted."),
    ("786", "DLT-ENTITY-BLACKLST", "Entity ID is blacklisted."),
    ("787", "DLT-HEADER-INACTIVE", "Sender Inactive"),
    ("788", "DLT-TM-INACTIVE", "Template is inactive."),
    ("789", "DLT-SENDER-NOT-REG-TM", "Sender is not registered for the template."),
    ("790", "INV-PROVISION", "Sender Invalid Provision"),
    ("791", "INV-SERVICE", "Invalid Service Type"),
    ("792", "INV-SCHEDULE", "Invalid Schedule"),)
DESCRIPTION_BY_CODE = {code: description for code, _status, description in DLR_TABLE}
STATUS_BY_CODE = {code: status for code, status, _description in DLR_TABLE}
CODE_BY_STATUS: dict[str, str] = {}
for _code, _status, _description in DLR_TABLE:
    CODE_BY_STATUS.setdefault(_status, _code)

# Smart Delivery help (Smart Delivery Process) + the DLT family of the table (and INV-TEMPLATE). Three of the
# help's statuses (INV-PEID, INV-TMID, INV-ENTITY) have no code in the table.
SMART_DELIVERY_HELP = ("DLT-REJECTED", "INV-PEID", "INV-TMID", "INV-ENTITY", "INV-TEMPLATE")
DLT_REJECTION_STATUSES = frozenset(
    SMART_DELIVERY_HELP + tuple(s for _c, s, _d in DLR_TABLE if s.startswith("DLT-")))
DLT_REJECTION_CODES = frozenset(c for c, s, _d in DLR_TABLE if s in DLT_REJECTION_STATUSES)
HELP_DESCRIPTIONS = {
    "INV-PEID": "Invalid principal entity ID (Smart Delivery help).",
    "INV-TMID": "Invalid telemarketer ID (Smart Delivery help).",
    "INV-ENTITY": "Invalid entity (Smart Delivery help).",
}

# Statuses whose meaning is "the operator or BICS refused it" rather than "it failed on
# the way": policy, opt-out, DLT and account refusals.
REJECTED_STATUSES = frozenset({
    "BARRED", "SERIES-BLK", "SERIES-BLOCK", "NO-CREDITS", "NO-ACCOUNT", "INV-NUMBER", "SPAM",
    "DNDNUMB", "BLACKLST", "SNDR-BLOCK", "TEMPLATE-NOT-FOUND", "INV-TEMPLATE", "INV-SENDER",
    "NOT-OPTIN", "OPTOUT-REJ", "PROMO-TMOUT", "REJECTED", "NOTALLOWED", "DUPLICATE",
    "THROTTLED", "INV-PROVISION", "INV-SERVICE", "INV-SCHEDULE", "INV-PEID", "INV-TMID",
    "INV-ENTITY",
}) | DLT_REJECTION_STATUSES
EXPIRED_STATUSES = frozenset({"EXPIRED"})
DELIVERED_STATUSES = frozenset({"DELIVRD", "DELIVERED"})
# Not final: SMS intermediate states (SUBMITTED is what the pull shows before the final DLR;
# ACCEPTED is the send answer's item status; ENROUTE/BUFFERED are SMPP's), channel states.
PENDING_STATUSES = frozenset({"SUBMITTED", "ACCEPTED", "ENROUTE", "BUFFERED", "SENT", "QUEUED",
                              "DISPATCHED", "PENDING", "SUBMITD", "ACKED"})

# WhatsApp and Viber (Pull DLR Status of each channel).
CHANNEL_STATUS = {
    "queued": "submitted", "dispatched": "submitted", "sent": "submitted",
    "delivered": "delivered", "read": "read", "deleted": "expired", "expired": "expired",
    "failed": "failed",
}


def message_status_for(status: str | None, code: str | None = None, *, channel: str = "sms") -> str | None:
    """Our ``Message.status`` for a DLR ``status`` (and/or 3-digit ``code``); None when the
    report says nothing usable."""
    text = (status or "").strip()
    code = (str(code).strip().zfill(3) if code not in (None, "") else "")
    if channel != "sms":
        mapped = CHANNEL_STATUS.get(text.lower())
        if mapped:
            return mapped
    upper = text.upper()
    if not upper and code in STATUS_BY_CODE:
        upper = STATUS_BY_CODE[code]
    if not upper:
        return None
    if upper in DELIVERED_STATUSES:
        return "delivered"
    if upper == "READ":
        return "read"
    if upper in PENDING_STATUSES:
        return "submitted"
    if upper in EXPIRED_STATUSES:
        return "expired"
    if upper in REJECTED_STATUSES:
        return "rejected"
    return "failed"  # every other code of the table, and anything unknown but final-looking


def is_dlt_rejection(status: str | None, code: str | None = None) -> bool:
    """Does this DLR carry a DLT rejection (Smart Delivery help + DLR table)?"""
    upper = (status or "").strip().upper()
    code = str(code).strip().zfill(3) if code not in (None, "") else ""
    return upper in DLT_REJECTION_STATUSES or code in DLT_REJECTION_CODES


def describe(status: str | None, code: str | None = None) -> str:
    """The documented description of a DLR code or status ('' when none)."""
    code = str(code).strip().zfill(3) if code not in (None, "") else ""
    if code in DESCRIPTION_BY_CODE:
        return DESCRIPTION_BY_CODE[code]
    upper = (status or "").strip().upper()
    if upper in CODE_BY_STATUS:
        return DESCRIPTION_BY_CODE[CODE_BY_STATUS[upper]]
    return HELP_DESCRIPTIONS.get(upper, "")
