"""Flask extensions, created unbound here and bound in create_app."""

from flask_babel import Babel, gettext
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
mail = Mail()

login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.session_protection = "basic"
login_manager.login_message = "Please sign in to see the staff pages."
login_manager.localize_callback = gettext
