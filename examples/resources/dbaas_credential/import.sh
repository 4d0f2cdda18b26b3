# A credential is imported by `<database_id>/<username>`. A generated password cannot be
# imported: `password` stays null until `password_reset` changes (or read it with the
# `dbaas_credential` ephemeral resource).
terraform import dbaas_credential.app db-0123456789ab/app
