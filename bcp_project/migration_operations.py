"""Operations our migrations share."""

from django.db import migrations, router


def fill_factor(app_label: str, model_name: str, percent: int) -> migrations.RunPython:
    """PostgreSQL: the table of `app_label.model_name` fills its pages only to `percent`, in the databases that hold
    it (the control plane's or every region's), so that an update finds room for the row's new version on its own
    page: a HOT update, which writes no index entry. Pages written before keep what they hold. Nothing on SQLite."""

    def apply(apps, schema_editor, value: int | None) -> None:
        connection = schema_editor.connection
        model = apps.get_model(app_label, model_name)
        if connection.vendor != "postgresql" or not router.allow_migrate_model(connection.alias, model):
            return
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})" if value is not None
                              else f"ALTER TABLE {table} RESET (fillfactor)")

    return migrations.RunPython(lambda apps, editor: apply(apps, editor, percent),
                                lambda apps, editor: apply(apps, editor, None),
                                hints={"model_name": model_name}, elidable=False)
