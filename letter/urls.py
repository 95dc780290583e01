app_name = "letter"
urlpatterns = []
