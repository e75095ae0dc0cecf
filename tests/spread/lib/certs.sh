# shellcheck shell=bash
# Certificates for the spread tasks, minted with openssl: ECDSA P-256 keys in
# PKCS#8, a CA per surface, leaves for 127.0.0.1 with both TLS server and
# client authentication (a member dials itself and its peers).

# make_ca DIR NAME: DIR/NAME.pem and DIR/NAME.key, a self-signed CA.
make_ca() {
    local dir="$1" name="$2"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/$name.key" -out "$dir/$name.pem" -days 30 -subj "/O=spread/CN=$name" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# make_leaf DIR NAME CA [SAN [EKU]]: DIR/NAME.pem and DIR/NAME.key, signed by
# DIR/CA.{pem,key}. SAN defaults to 127.0.0.1 and localhost, EKU to server
# and client authentication.
make_leaf() {
    local dir="$1" name="$2" ca="$3"
    local san="${4:-IP:127.0.0.1,DNS:localhost}" eku="${5:-serverAuth,clientAuth}"
    cat >"$dir/$name.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$eku
subjectAltName=$san
EOF
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/O=spread/CN=$name" 2>/dev/null
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$dir/$name.ext" \
        -out "$dir/$name.pem" 2>/dev/null
    rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# serial_of PEMFILE: a certificate's serial number (openssl's format).
serial_of() { openssl x509 -noout -serial -in "$1"; }

# served_serial HOST:PORT CA [CERT KEY]: the serial of the certificate a TLS
# listener serves to a new connection.
served_serial() {
    local addr="$1" ca="$2"
    local auth=()
    if [ $# -ge 4 ]; then
        auth=(-cert "$3" -key "$4")
    fi
    openssl s_client -connect "$addr" -CAfile "$ca" "${auth[@]}" </dev/null 2>/dev/null |
        openssl x509 -noout -serial
}
