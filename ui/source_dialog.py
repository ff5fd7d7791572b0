"""Picks what to analyse: a file, a stream URL (credentials typed apart and never shown), a webcam, the screen."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from common.urls import mask_url

VIDEO_FILTER = "Videos and images (*.mp4 *.mkv *.avi *.mov *.webm *.ts *.m3u8 *.jpg *.jpeg *.png *.bmp);;All files (*)"


def url_with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` put in front of its host (percent-encoded); unchanged without a user."""
    if not user:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


class SourceDialog(QDialog):
    """One tab per source kind and one of recent sources; ``spec()`` gives the ``--source`` string (None: demo)."""

    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open source")
        self.tabs = QTabWidget()

        self.recent = QListWidget()
        self.recent.addItems([mask_url(entry) for entry in recent])
        self._recent_specs = list(recent)
        self.recent.itemDoubleClicked.connect(self.accept)
        if recent:
            self.recent.setCurrentRow(0)
            self.tabs.addTab(self.recent, "Recent")

        self.file_path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_path)
        file_row.addWidget(browse)
        file_tab = QWidget()
        file_tab.setLayout(file_row)
        self.tabs.addTab(file_tab, "File")

        self.url = QLineEdit()
        self.url.setPlaceholderText("rtsp://camera.local:554/stream")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.url_preview = QLabel()
        for field in (self.url, self.user, self.password):
            field.textChanged.connect(self._preview_url)
        url_form = QFormLayout()
        url_form.addRow("URL", self.url)
        url_form.addRow("user", self.user)
        url_form.addRow("password", self.password)
        url_form.addRow("shown as", self.url_preview)
        url_tab = QWidget()
        url_tab.setLayout(url_form)
        self.tabs.addTab(url_tab, "Stream URL")

        self.webcam_index = QSpinBox()
        self.webcam_index.setRange(0, 63)
        webcam_form = QFormLayout()
        webcam_form.addRow("camera index", self.webcam_index)
        webcam_tab = QWidget()
        webcam_tab.setLayout(webcam_form)
        self.tabs.addTab(webcam_tab, "Webcam")

        self.region = QLineEdit()
        self.region.setPlaceholderText("x,y,w,h (empty: the whole primary screen)")
        screen_form = QFormLayout()
        screen_form.addRow("region", self.region)
        screen_tab = QWidget()
        screen_tab.setLayout(screen_form)
        self.tabs.addTab(screen_tab, "Screen")

        demo_tab = QWidget()
        demo_layout = QVBoxLayout(demo_tab)
        demo_layout.addWidget(QLabel("The built-in demo clip: a real face gliding across the frame."))
        self.tabs.addTab(demo_tab, "Demo")

        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or image", self.file_path.text(), VIDEO_FILTER)
        if path:
            self.file_path.setText(path)

    def _preview_url(self) -> None:
        self.url_preview.setText(mask_url(self._full_url()))

    def _full_url(self) -> str:
        return url_with_credentials(self.url.text().strip(), self.user.text(), self.password.text())

    def spec(self) -> str | None:
        """The chosen source as a ``--source`` value; None for the demo clip."""
        tab = self.tabs.tabText(self.tabs.currentIndex())
        if tab == "Recent":
            row = self.recent.currentRow()
            return self._recent_specs[row] if row >= 0 else None
        if tab == "File":
            return self.file_path.text().strip()
        if tab == "Stream URL":
            return self._full_url()
        if tab == "Webcam":
            return f"webcam:{self.webcam_index.value()}"
        if tab == "Screen":
            return f"screen:{self.region.text().strip()}"
        return None
