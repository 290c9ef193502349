import pytest


@pytest.fixture
def write_file(tmp_path):
    """Writes text (or bytes) to a file in tmp_path and returns its path as a string."""

    def write(text, name="contacts.csv", encoding="utf-8"):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding=encoding, newline="")
        return str(path)

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(rows, name="contacts.xlsx"):
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        path = tmp_path / name
        workbook.save(path)
        return str(path)

    return write
