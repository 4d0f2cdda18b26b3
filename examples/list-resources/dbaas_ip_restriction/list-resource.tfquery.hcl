# Every allowed network of every database, to bring a hand-kept allow-list under Terraform.
list "dbaas_ip_restriction" "all" {
  provider = dbaas
  limit    = 1000
}
