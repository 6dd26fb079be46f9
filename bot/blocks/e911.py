"""The `e911` modal (seed flow 3.6): the address form, `Choose correct address`, the outcome."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.accounts import account_context
from bot.blocks.cards import quote_text
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import AddressFields, E911Meta
from bot.blocks.text import clip, echo, escape
from bot.domain.billing import E911Price, Quote, format_money
from bot.domain.e911 import E911Address
from bot.domain.phone import display
from bot.domain.records import NumberRecord

TITLE = "e911"
CHOOSE_TITLE = "Choose correct address"
CHARGES_TITLE = "Accept e911 charges"
REMOVE = "Remove e911"

# The two-letter codes the form accepts (bot/domain/e911.py), named for the select.
REGIONS: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}

# Where each field the service names (InvalidInput.field) is shown in the modal.
FIELD_BLOCKS: dict[str, str] = {
    "street_address": BlockId.E911_STREET,
    "extended_address": BlockId.E911_SUITE,
    "locality": BlockId.E911_CITY,
    "region": BlockId.E911_STATE,
    "postal_code": BlockId.E911_ZIP,
    "caller_name": BlockId.E911_CALLER,
    "number": BlockId.E911_STREET,
}


def region_label(code: str) -> str:
    return f"{code} · {REGIONS[code]}"


def _region_options() -> list[Option]:
    return [Option(value=code, label=region_label(code)) for code in REGIONS]


def _text_input(
    block: str,
    action: str,
    label: str,
    initial: str | None,
    *,
    optional: bool = False,
    max_length: int = 100,
    hint: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=action,
            initial_value=initial or None,
            max_length=max_length,
            placeholder=placeholder,
        ),
    )


def _number_line(number: NumberRecord) -> str:
    line = f"Emergency address of *{escape(number.display)}*"
    if number.e911 is not None:
        status = "🚑 emergency enabled" if number.emergency_enabled else "not emergency enabled"
        line += f"\nNow: {escape(number.e911.one_line())} ({status})"
    return line


def price_text(price: E911Price) -> str:
    """What saving the address adds to the bill, in the modal before *Save*."""
    monthly = format_money(price.rate.monthly, price.currency)
    if price.already_billed and price.carrier_confirms:
        return (
            ":moneybag: This number is emergency enabled already: correcting its address "
            "adds no e911 charge."
        )
    if price.already_billed:
        return (
            f":moneybag: The e911 charge of {monthly} a month is already on the bill for this "
            "number: correcting its address costs nothing more."
        )
    if price.carrier_confirms:
        return (
            ":moneybag: Saving an address may add the carrier's e911 charge to the bill: "
            "when the carrier asks, its charges are shown for you to accept before anything "
            "is saved."
        )
    if not price.rate.monthly and not price.rate.activation:
        return ":moneybag: e911 costs nothing on this account's plan."
    once = (
        f", plus {format_money(price.rate.activation, price.currency)} once,"
        if price.rate.activation
        else ""
    )
    source = "the carrier's price" if price.quoted else "the service plan's e911 price"
    return f":moneybag: Saving an address adds {monthly} a month{once} to the bill ({source})."


# How to make the embedded backend's simulated geocoder answer each way
# (bot/backends/carrier_sim.py; README "e911"), shown only with that backend.
SIMULATOR_HINT = (
    "Trying it out: this bot runs on its simulated carrier, whose geocoder refuses a house "
    "number 0 (`0 Main St`) or a ZIP code starting 000 as invalid, and offers several "
    "candidates for a street with no street type (`140 Main`). Any other address is saved."
)


def e911_modal(
    number: NumberRecord,
    meta: E911Meta,
    notice: str | None = None,
    typed: Mapping[str, str | None] | None = None,
    account: str | None = None,
    *,
    price: E911Price | None = None,
    simulated: bool = False,
) -> View:
    """The address form, prefilled with what was `typed` (drawn again after a refusal),
    else with the number's address when it has one; with what saving it costs."""
    current = number.e911

    def shown(field: str) -> str | None:
        if typed is not None:
            return typed.get(field)
        value = getattr(current, field) if current else None
        return str(value) if value else None

    region = shown("region")
    region = region if region in REGIONS else None
    options = _region_options()
    initial_region = next((o for o in options if o.value == region), None)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_number_line(number)))]
    if account:
        blocks.append(account_context(account))
    if price is not None:
        blocks.append(
            ContextBlock(
                block_id=BlockId.E911_PRICE,
                elements=[MarkdownTextObject(text=price_text(price))],
            )
        )
    if notice:
        blocks.append(
            ContextBlock(
                block_id=BlockId.E911_NOTICE,
                elements=[MarkdownTextObject(text=f":warning: {echo(notice, 500)}")],
            )
        )
    blocks += [
        _text_input(
            BlockId.E911_STREET,
            ActionId.E911_STREET,
            "Street address",
            shown("street_address"),
            placeholder="140 Main St",
            hint="House number first, then the street.",
        ),
        _text_input(
            BlockId.E911_SUITE,
            ActionId.E911_SUITE,
            "Suite or unit",
            shown("extended_address"),
            optional=True,
        ),
        _text_input(
            BlockId.E911_CITY,
            ActionId.E911_CITY,
            "City",
            shown("locality"),
            max_length=60,
        ),
        InputBlock(
            block_id=BlockId.E911_STATE,
            label="State",
            element=StaticSelectElement(
                action_id=ActionId.E911_STATE,
                placeholder="Choose a state or territory",
                options=options,
                initial_option=initial_region,
            ),
        ),
        _text_input(
            BlockId.E911_ZIP,
            ActionId.E911_ZIP,
            "ZIP code",
            shown("postal_code"),
            max_length=10,
            hint="5 digits, or ZIP+4 such as 94103-1234.",
        ),
        _text_input(
            BlockId.E911_CALLER,
            ActionId.E911_CALLER,
            "Caller name",
            shown("caller_name"),
            optional=True,
            max_length=32,
            hint="What 911 sees as the caller; the account's name when left empty.",
        ),
    ]
    if simulated:
        blocks.append(
            ContextBlock(
                block_id=BlockId.E911_SIMULATOR,
                elements=[MarkdownTextObject(text=SIMULATOR_HINT)],
            )
        )
    if current is not None:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.E911_REMOVE,
                elements=[
                    ButtonElement(
                        text=REMOVE,
                        action_id=ActionId.E911_REMOVE,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Remove e911?",
                            text=(
                                f"{number.display} will have no emergency address: 911 calls "
                                "from it cannot be located."
                            ),
                            confirm="Remove",
                            deny="Keep it",
                            style="danger",
                        ),
                    )
                ],
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.E911,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def _fields_line(address: AddressFields) -> str:
    """The address on one line, as `E911Address.one_line` writes a saved one."""
    street = address.street_address
    if address.extended_address:
        street += f", {address.extended_address}"
    return f"{street}, {address.locality}, {address.region} {address.postal_code}"


def candidate_label(address: AddressFields) -> str:
    return clip(_fields_line(address), 75)


def as_fields(address: E911Address) -> AddressFields:
    return AddressFields(
        street_address=address.street_address,
        extended_address=address.extended_address,
        locality=address.locality,
        region=address.region,
        postal_code=address.postal_code,
        caller_name=address.caller_name,
    )


def choose_modal(number: NumberRecord, meta: E911Meta) -> View:
    """The geocoder found several addresses: the person picks the right one."""
    options = [
        Option(value=str(i), label=candidate_label(c)) for i, c in enumerate(meta.candidates)
    ]
    text = (
        f"Several addresses match what you typed for *{escape(number.display)}*. "
        "Choose the correct one, then *Save*."
    )
    choice = InputBlock(
        block_id=BlockId.E911_CHOICE,
        label="Address",
        element=RadioButtonsElement(action_id=ActionId.E911_CHOICE, options=options),
    )
    return _step_modal(CallbackId.E911_CHOOSE, CHOOSE_TITLE, "Save", meta, text, [choice])


def _step_modal(
    callback_id: str, title: str, submit: str, meta: E911Meta, text: str, more: list[Block]
) -> View:
    """A further step of the e911 modal: what it asks, its submit button, and Cancel."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=meta.dump(),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text)), *more],
    )


def working_modal(e164: str) -> View:
    """Shown while the address is checked with the provider and saved: Slack's answer
    cannot wait for either."""
    text = (
        f":hourglass_flowing_sand: Checking the address of *{escape(display(e164))}* with "
        "the e911 provider and saving it. This view shows the outcome when it is done."
    )
    return done_modal(text)


def charges_modal(number: NumberRecord, meta: E911Meta, quote: Quote) -> View:
    """The carrier charges for this e911 change (Kazoo's 402): accept, or cancel."""
    assert meta.pending is not None
    where = _fields_line(meta.pending)
    text = (
        f"Kazoo charges for the emergency address of *{escape(number.display)}* "
        f"({echo(where, 300)}):\n{quote_text(quote)}\n"
        "Accept the charges to save the address, or Cancel to leave it as it is."
    )
    return _step_modal(CallbackId.E911_CHARGES, CHARGES_TITLE, "Accept", meta, text, [])


def done_modal(text: str) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.E911,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )


def saved_text(number: NumberRecord, address: E911Address) -> str:
    return (
        f":white_check_mark: {escape(number.display)} is emergency enabled 🚑. "
        f"Its e911 address: {escape(address.one_line())} (caller name "
        f"“{escape(address.caller_name)}”)."
    )


def removed_text(number: NumberRecord) -> str:
    return (
        f":heavy_minus_sign: The e911 address of {escape(number.display)} is removed; "
        "911 calls from it can no longer be located."
    )


def form_fields(values: Mapping[str, Mapping[str, Mapping[str, object]]]) -> dict[str, str | None]:
    """The service's field names from the modal's state.values."""

    def text(block: str) -> str | None:
        entry = values.get(block, {}).get(block, {})
        raw = entry.get("value")
        return str(raw) if raw is not None else None

    state = values.get(BlockId.E911_STATE, {}).get(BlockId.E911_STATE, {})
    picked = state.get("selected_option")
    region = str(picked.get("value")) if isinstance(picked, Mapping) else None
    return {
        "street_address": text(BlockId.E911_STREET),
        "extended_address": text(BlockId.E911_SUITE),
        "locality": text(BlockId.E911_CITY),
        "region": region,
        "postal_code": text(BlockId.E911_ZIP),
        "caller_name": text(BlockId.E911_CALLER),
    }
