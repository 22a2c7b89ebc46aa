"""Every way the scanner's decoders can read a picture: zxing-cpp with each binarizer, with
and without `is_pure`, pyzbar after each preprocessing step of scanner.decoders, and the
kiosk's own file pipeline, at sizes from half to three times (a phone held far or near).
Used to show that the sample genuine stamp's QR reads nowhere while the report QR reads."""

from __future__ import annotations

SCALES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def every_reading(gray) -> set[str]:
    """The texts any decoder, binarizer, step or scale finds in `gray` (numpy, uint8)."""
    import cv2
    import zxingcpp

    from scanner.decoders import PREPROCESS_STEPS, CodeFormat, DecodePipeline, PyzbarDecoder

    gray = cv2.copyMakeBorder(gray, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)  # quiet
    found: set[str] = set()
    zbar = PyzbarDecoder([CodeFormat.QR])
    for scale in SCALES:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
        image = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation)
        for binarizer in zxingcpp.Binarizer.__members__.values():
            for pure in (False, True):
                results = zxingcpp.read_barcodes(
                    image, formats=zxingcpp.BarcodeFormat.QRCode, binarizer=binarizer, is_pure=pure
                )
                # is_pure hands back an invalid, empty result even for a blank picture
                found |= {r.text for r in results if r.valid and r.text}
        for step in PREPROCESS_STEPS.values():
            found |= {code.text for code in zbar.decode(step.apply(image))}
        found |= set(DecodePipeline.for_files().decode(image).texts)
    return found
