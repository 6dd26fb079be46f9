"""All services, built once from their dependencies (see bot/bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service.accounts import AccountService
from bot.service.context import Deps
from bot.service.deliveries import DeliveryService
from bot.service.e911 import E911Service
from bot.service.lifecycle import Lifecycle
from bot.service.listing import ListingService
from bot.service.numbers import NumberService
from bot.service.overview import OverviewService
from bot.service.purchase import PurchaseService


@dataclass(frozen=True, slots=True)
class Services:
    deps: Deps
    accounts: AccountService
    numbers: NumberService
    purchases: PurchaseService
    lifecycle: Lifecycle
    e911: E911Service
    deliveries: DeliveryService
    overview: OverviewService
    listing: ListingService

    @classmethod
    def build(cls, deps: Deps) -> Services:
        accounts = AccountService(deps)
        numbers = NumberService(deps, accounts)
        purchases = PurchaseService(deps, accounts, numbers)
        return cls(
            deps=deps,
            accounts=accounts,
            numbers=numbers,
            purchases=purchases,
            # Activation notices and aging tell people through the purchases' notifier.
            lifecycle=Lifecycle(deps, purchases.tell),
            e911=E911Service(deps, numbers),
            deliveries=DeliveryService(deps),
            overview=OverviewService(deps, accounts, numbers),
            listing=ListingService(deps, accounts),
        )
