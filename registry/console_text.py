"""Every string the office console shows, English msgid -> Vietnamese, in one place.

Kept as a gettext-shaped table (English msgids, `{name}` placeholders filled after
translation) so it moves into a .po catalog as it is once the registry has one
(registry/i18n). Vietnamese is the console's first language.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

VI: dict[str, str] = {
    # layout
    "OCOP office console": "Bảng điều khiển OCOP",
    "Sơn La Provincial People's Committee": "UBND tỉnh Sơn La",
    "Sơn La provincial OCOP coordination office": (
        "Văn phòng Điều phối Chương trình OCOP tỉnh Sơn La"
    ),
    "Skip to content": "Chuyển đến nội dung",
    "Main menu": "Menu chính",
    "Language": "Ngôn ngữ",
    "Signed in as {name}": "Đang đăng nhập: {name}",
    "Sign out": "Đăng xuất",
    # sections
    "Home": "Trang chủ",
    "Catalog": "Danh mục sản phẩm",
    "Stations": "Trạm",
    "Stamps": "Tem",
    "Suspects": "Tem nghi giả",
    "Fleet": "Thiết bị",
    "Audit": "Nhật ký",
    "Reports": "Báo cáo",
    # roles
    "Viewer": "Người xem",
    "Editor": "Biên tập viên",
    "Administrator": "Quản trị viên",
    "You can view everything; you cannot change anything.": (
        "Bạn được xem mọi mục nhưng không được thay đổi gì."
    ),
    "You can view everything and change the catalog.": (
        "Bạn được xem mọi mục và được sửa danh mục sản phẩm."
    ),
    "You can view and change everything.": "Bạn được xem và thay đổi mọi mục.",
    # sign-in
    "Sign in": "Đăng nhập",
    "User name": "Tên đăng nhập",
    "Password": "Mật khẩu",
    "Wrong user name or password, or the account is locked for a while after too many "
    "failed attempts.": (
        "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị tạm khoá sau nhiều lần nhập sai."
    ),
    "Too many failed sign-ins from this computer. Try again in {minutes} min.": (
        "Có quá nhiều lần đăng nhập sai từ máy này. Hãy thử lại sau {minutes} phút."
    ),
    "Your browser must accept cookies to sign in. Reload this page and try again.": (
        "Trình duyệt cần cho phép cookie để đăng nhập. Hãy tải lại trang này rồi thử lại."
    ),
    "You have signed out.": "Bạn đã đăng xuất.",
    "For the staff of the provincial OCOP office. Ask the administrator for an account.": (
        "Dành cho cán bộ Văn phòng OCOP tỉnh. Hãy đề nghị quản trị viên cấp tài khoản."
    ),
    # home
    "Overview": "Tổng quan",
    "Products": "Sản phẩm",
    "Producers": "Chủ thể sản xuất",
    "Active stations": "Trạm đang hoạt động",
    "Suspects waiting for a decision": "Tem nghi giả chờ quyết định",
    "Stamps issued in the last 30 days": "Tem đã cấp trong 30 ngày qua",
    # sections not built yet
    "This section is being built. Until then, use the command line (ocop-registry) or the "
    "reports page.": (
        "Mục này đang được xây dựng. Trong thời gian này, hãy dùng dòng lệnh (ocop-registry) "
        "hoặc trang báo cáo."
    ),
    "Open the reports page": "Mở trang báo cáo",
    # suspects
    "Serial": "Số sê-ri",
    "Rule": "Quy tắc",
    "Detected": "Phát hiện lúc",
    "Decision": "Quyết định",
    "Publish as suspect": "Đưa vào danh sách nghi giả",
    "Dismiss": "Bỏ qua",
    "No suspects are waiting for a decision.": "Không có tem nghi giả nào đang chờ quyết định.",
    "Only an administrator can decide.": "Chỉ quản trị viên được quyết định.",
    # refusals
    "Not allowed": "Không được phép",
    "This needs the {role} role.": "Việc này cần quyền {role}.",
    "Back to the home page": "Về trang chủ",
}


def add_strings(section: dict[str, str]) -> None:
    """Merge one console section's table (registry/routes/console_*.py keep their own
    strings next to their pages); a msgid translated two different ways is a bug."""
    for msgid, text in section.items():
        if VI.get(msgid, text) != text:
            raise ValueError(f"console string translated twice: {msgid!r}")
        VI[msgid] = text


def gettext(lang: str, msgid: str, **values: object) -> str:
    """`msgid` in `lang` (English is the msgid itself), placeholders filled."""
    text = VI.get(msgid, msgid) if lang == "vi" else msgid
    return text.format(**values) if values else text


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "VI", "add_strings", "gettext"]
