"""The purchase and management end-to-end flows of tests/e2e, run on the kazoo backend."""

from tests.e2e.test_assign import (  # noqa: F401
    test_assign_and_unassign_by_command,
    test_assign_to_a_person_from_the_row_menu,
    test_the_faxbox_takes_one_number,
    test_unassign_from_the_menu_then_spare_and_add_from_spare_numbers,
)
from tests.e2e.test_buy_flows import (  # noqa: F401
    test_buy_for_a_user_from_the_command,
    test_buy_tollfree_numbers,
)
from tests.e2e.test_buy_local import test_buy_local_main_numbers_with_approval  # noqa: F401
from tests.e2e.test_e911 import test_e911_by_command_saves_a_valid_address_at_once  # noqa: F401
from tests.e2e.test_release import (  # noqa: F401
    test_double_clicked_release_releases_once,
    test_release_with_confirm_then_restore_with_its_assignment,
)
