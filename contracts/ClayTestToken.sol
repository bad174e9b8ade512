// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title Golem Clay test token (tCLAY)
 * @notice An ERC-20 for local chains only: its owner (a relay's faucet) mints
 * at will, so it is worth nothing. Production deploys the deposit contract
 * against an existing token, by address.
 */
contract ClayTestToken is ERC20, Ownable {
    constructor(address owner_) ERC20("Golem Clay Test Token", "tCLAY") Ownable(owner_) {}

    /// @notice Mints `amount` to `to`; the owner only.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
