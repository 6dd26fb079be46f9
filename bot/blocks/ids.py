"""Every action_id, block_id and callback_id the app sends or listens for.

Dynamic block ids (result groups) are built as `f"{BlockId.X}.{suffix}"` so a
listener can still recognise them by prefix.
"""

from __future__ import annotations

from enum import StrEnum


class CallbackId(StrEnum):
    BUY = "buy"
    REJECT = "reject"
    E911 = "e911"
    E911_CHOOSE = "e911.choose"
    E911_CHARGES = "e911.charges"
    ASSIGN = "assign"


class ActionId(StrEnum):
    BUY_TARGET = "buy.target"
    BUY_USER = "buy.user"
    BUY_KIND = "buy.kind"
    BUY_AREA_CODE = "buy.area_code"
    BUY_PREFIX = "buy.prefix"
    BUY_SEARCH = "buy.search"
    BUY_SHOW_SPARES = "buy.show_spares"
    BUY_ADD_SPARES = "buy.add_spares"
    BUY_RESULTS = "buy.results"
    BUY_SPARE_PICK = "buy.spare_pick"
    CARD_ACCEPT = "card.accept"
    CARD_CANCEL = "card.cancel"
    CARD_APPROVE = "card.approve"
    CARD_REJECT = "card.reject"
    CARD_RETRY = "card.retry"
    CARD_E911 = "card.e911"
    REJECT_REASON = "reject.reason"
    NUMBER_MENU = "number.menu"
    LIST_NEXT = "list.next"
    LIST_PREVIOUS = "list.previous"
    LIST_BUY = "list.buy"
    E911_STREET = "e911.street"
    E911_SUITE = "e911.suite"
    E911_CITY = "e911.city"
    E911_STATE = "e911.state"
    E911_ZIP = "e911.zip"
    E911_CALLER = "e911.caller"
    E911_CHOICE = "e911.choice"
    E911_REMOVE = "e911.remove"
    ASSIGN_TARGET = "assign.target"
    ASSIGN_USER = "assign.user"


class BlockId(StrEnum):
    BUY_TARGET = "buy.target"
    BUY_USER = "buy.user"
    BUY_KIND = "buy.kind"
    BUY_AREA_CODE = "buy.area_code"
    BUY_PREFIX = "buy.prefix"
    BUY_NOTICE = "buy.notice"
    BUY_TARGET_NOTICE = "buy.target_notice"
    BUY_BUTTONS = "buy.buttons"
    BUY_RESULTS = "buy.results"  # prefix: buy.results.<query>.<n>
    BUY_SPARES = "buy.spares"  # prefix: buy.spares.<n>
    BUY_SPARE_BUTTONS = "buy.spare_buttons"
    BUY_DONE = "buy.done"
    CARD_ACTIONS = "card.actions"
    REJECT_REASON = "reject.reason"
    NUMBER_ROW = "number.row"  # prefix: number.row.<e164>
    LIST_WARNING = "list.warning"
    LIST_HEADER = "list.header"
    LIST_PAGE = "list.page"
    LIST_BUTTONS = "list.buttons"
    E911_STREET = "e911.street"
    E911_SUITE = "e911.suite"
    E911_CITY = "e911.city"
    E911_STATE = "e911.state"
    E911_ZIP = "e911.zip"
    E911_CALLER = "e911.caller"
    E911_CHOICE = "e911.choice"
    E911_NOTICE = "e911.notice"
    E911_PRICE = "e911.price"
    E911_SIMULATOR = "e911.simulator"
    E911_REMOVE = "e911.remove"
    ASSIGN_TARGET = "assign.target"
    ASSIGN_USER = "assign.user"
    ASSIGN_NOTICE = "assign.notice"


class ManageId(StrEnum):
    """Accounts, move, release, requests, history and the App Home (kept apart from the
    buy flow's ids above)."""

    MOVE_MODAL = "move"  # callback_id
    MOVE_ACCOUNT = "move.account"  # block and action id of the account select
    RELEASE = "release.confirm"
    REQUESTS_CANCEL = "requests.cancel"
    REQUESTS_APPROVE = "requests.approve"
    HISTORY_PAGE = "history.page"
    HOME_ACCOUNT = "home.account"
    HOME_BUY = "home.buy"
    HOME_SPARES = "home.spares"
    HOME_LIST = "home.list"
