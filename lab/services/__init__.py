"""Real servers run inside lab hosts: DNS (dnsmasq), web (nginx), and what scenarios ask for."""
