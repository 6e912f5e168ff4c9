"""Flask extensions, created unbound here and bound in create_app."""

from flask_babel import Babel
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
mail = Mail()
