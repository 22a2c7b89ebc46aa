"""One module and one .kv file per screen."""

from kiosk.ui.screens.attract import AttractScreen
from kiosk.ui.screens.browse import BrowseScreen
from kiosk.ui.screens.product import ProductScreen
from kiosk.ui.screens.result import ResultScreen
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.staff import StaffScreen
from kiosk.ui.screens.staff_pin import StaffPinScreen

__all__ = ["AttractScreen", "BrowseScreen", "ProductScreen", "ResultScreen", "ScanScreen",
           "StaffPinScreen", "StaffScreen"]
