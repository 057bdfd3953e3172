"""The course templates shipped with moodle_sync, one folder each (see README.md here).

Installed as the package ``moodle_sync.course_templates`` (setup.cfg maps this folder into it), so that
``importlib.resources`` finds it in a wheel, an editable install and a source tree alike.
"""
