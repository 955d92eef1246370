// Submits the form_post response (OAuth 2.0 Form Post Response Mode) without inline script.
document.getElementById("form-post").submit();
