"""A fake /sys for camera detection: real folders, files and symlinks shaped like the kernel's.

    /sys/class/video4linux/videoN -> ../../devices/<device>/video4linux/videoN
    /sys/devices/<device>/video4linux/videoN/{name,index,dev,device -> ../..}

Only the shape matters to scanner.detection: where `device` resolves (under a usbN root hub
or not), `index` (0 = capture node) and `name`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

USB_INTERFACE = "pci0000:00/0000:00:14.0/usb1/{port}/{port}:1.0"
PI_CODEC_NODES = {  # Pi 4, Bookworm: always present, none of them a camera
    10: ("platform/soc/soc:bcm2835-codec", "bcm2835-codec-decode"),
    11: ("platform/soc/soc:bcm2835-codec", "bcm2835-codec-encode"),
    12: ("platform/soc/soc:bcm2835-codec", "bcm2835-codec-isp"),
    13: ("platform/soc/soc:bcm2835-isp", "bcm2835-isp"),
    14: ("platform/soc/soc:bcm2835-isp", "bcm2835-isp"),
    18: ("platform/soc/soc:bcm2835-codec", "bcm2835-codec-image_fx"),
    19: ("platform/soc/fe00b840.mailbox/rpivid", "rpivid"),
    20: ("platform/soc/soc:bcm2835-isp", "bcm2835-isp"),
    31: ("platform/soc/soc:bcm2835-codec", "bcm2835-codec-encode_image"),
}


class FakeSysfs:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.class_dir = self.root / "class" / "video4linux"
        self.class_dir.mkdir(parents=True, exist_ok=True)

    def add_node(self, number: int, device: str, name: str, index: int = 0) -> None:
        device_dir = self.root / "devices" / device
        node_dir = device_dir / "video4linux" / f"video{number}"
        node_dir.mkdir(parents=True)
        (node_dir / "name").write_text(name + "\n")
        (node_dir / "index").write_text(f"{index}\n")
        (node_dir / "dev").write_text(f"81:{number}\n")
        (node_dir / "device").symlink_to(Path("..") / "..")
        (self.class_dir / f"video{number}").symlink_to(os.path.relpath(node_dir, self.class_dir))

    def add_usb_webcam(
        self, first_number: int = 0, port: str = "1-2", name: str = "HD Webcam: HD Webcam"
    ) -> None:
        """A UVC webcam: capture node (index 0) and metadata node (index 1), one interface."""
        interface = USB_INTERFACE.format(port=port)
        self.add_node(first_number, interface, name, index=0)
        self.add_node(first_number + 1, interface, name, index=1)

    def add_pi_codec_nodes(self) -> None:
        for number, (device, name) in PI_CODEC_NODES.items():
            self.add_node(number, device, name)

    def unplug_usb(self, port: str = "1-2") -> None:
        interface_dir = self.root / "devices" / USB_INTERFACE.format(port=port)
        for link in list(self.class_dir.iterdir()):
            if os.path.realpath(link).startswith(str(interface_dir) + os.sep):
                link.unlink()
        shutil.rmtree(interface_dir)
