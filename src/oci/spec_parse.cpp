// implemented by the oci module work
