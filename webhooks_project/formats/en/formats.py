# One date format on every staff page, the same in English and German (ISO 8601 order, which
# DIN 5008 also allows): the admin's columns and read-only fields, and the staff_time filter
# (webhooks_project/templatetags/staff_format.py). FORMAT_MODULE_PATH in settings points here.
DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
