"""Loads one page in QtWebKit 5.212 (Debian's python3-pyqt5.qtwebkit) and keeps it running.

Usage: qtwebkit-page.py URL SCREENSHOT.png|'' WIDTH RESULT-EXPRESSION [INIT-SCRIPT]

The page's console goes to stderr, one line each (`console: ...`). Once the page sets
`window.status` to `cometkit-done`, RESULT-EXPRESSION (JavaScript giving a string, typically
JSON.stringify of what the page found) is evaluated in the page and printed as one line
`result: ...` to stdout, the page is rendered to SCREENSHOT.png (when given) and the process exits
0. INIT-SCRIPT, when given, runs in the page before its own scripts (what a test does in the
page that a person would: fill in a form, press a button). Until then it runs, whatever its frames and requests do: the caller (scripts/lib/qtwebkit.mjs)
ends it by its pid otherwise. Local storage is on, as a Qt application that keeps state enables
it (QWebSettings leaves it off).
"""
import os
import sys

from PyQt5.QtCore import QSize, QTimer, QUrl
from PyQt5.QtGui import QImage, QPainter
from PyQt5.QtWebKit import QWebSettings
from PyQt5.QtWebKitWidgets import QWebPage
from PyQt5.QtWidgets import QApplication

DONE_STATUS = 'cometkit-done'


class Page(QWebPage):
    def javaScriptConsoleMessage(self, message, line, source):
        print(f'console: {message} ({source}:{line})', file=sys.stderr, flush=True)

    def javaScriptAlert(self, frame, message):
        print(f'alert: {message}', file=sys.stderr, flush=True)


def main():
    url = sys.argv[1]
    screenshot = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    width = int(sys.argv[3])
    expression = sys.argv[4]
    init = sys.argv[5] if len(sys.argv) > 5 else ''
    app = QApplication(sys.argv[:1])
    storage = os.environ.get('COMETKIT_QTWEBKIT_STORAGE')
    settings = QWebSettings.globalSettings()
    settings.setAttribute(QWebSettings.LocalStorageEnabled, True)
    if storage:
        settings.setLocalStoragePath(storage)
        settings.setOfflineStoragePath(storage)
    page = Page()
    page.setViewportSize(QSize(width, 900))
    frame = page.mainFrame()
    if init:
        frame.javaScriptWindowObjectCleared.connect(lambda: frame.evaluateJavaScript(init))

    def check():
        if frame.evaluateJavaScript('window.status') != DONE_STATUS:
            return
        timer.stop()
        print('result: ' + str(frame.evaluateJavaScript(expression)), flush=True)
        if screenshot:
            size = frame.contentsSize()
            page.setViewportSize(QSize(width, max(size.height(), 300)))
            image = QImage(page.viewportSize(), QImage.Format_ARGB32)
            painter = QPainter(image)
            frame.render(painter)
            painter.end()
            image.save(screenshot)
        app.exit(0)

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(100)
    frame.load(QUrl(url))
    sys.exit(app.exec_())


main()
