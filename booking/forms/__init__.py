"""The app's forms, by who fills them in: visitors and teachers (public), the front desk (desk),
staff accounts (accounts), the calendar and content staff manage (admin); what they share is in base.

Forms check the shape of input (required, length, format); operations check the calendar.
"""
