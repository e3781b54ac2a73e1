from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("c/<int:conversation_id>/", views.inbox_page, name="conversation"),
    path("fragments/row/<int:conversation_id>/", views.conversation_row, name="row"),
    path("fragments/header/<int:conversation_id>/", views.chat_header, name="header"),
    path("fragments/message/<int:message_id>/", views.message_fragment, name="message"),
    path("fragments/timeline/<int:conversation_id>/", views.older_messages, name="older"),
    path("fragments/saved-replies/", views.saved_replies, name="saved-replies"),
]
